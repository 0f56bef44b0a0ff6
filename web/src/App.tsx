import { lazy, Suspense } from "react";
import { NavLink, Route, Routes } from "react-router-dom";
import { JobsPage } from "./pages/JobsPage";
import { Loading } from "./components/States";
import { NotFoundPage } from "./pages/NotFoundPage";

// The list is the first page; the others load when visited.
const CreateJobPage = lazy(() => import("./pages/CreateJobPage"));
const JobPage = lazy(() => import("./pages/JobPage"));
const ClustersPage = lazy(() => import("./pages/ClustersPage"));

export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">ml-platform</span>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Jobs
          </NavLink>
          <NavLink to="/jobs/new">New job</NavLink>
          <NavLink to="/clusters">Clusters</NavLink>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading what="page" />}>
          <Routes>
            <Route path="/" element={<JobsPage />} />
            <Route path="/jobs/new" element={<CreateJobPage />} />
            <Route path="/jobs/:id" element={<JobPage />} />
            <Route path="/clusters" element={<ClustersPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
