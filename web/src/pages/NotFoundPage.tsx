import { Link } from "react-router-dom";

export function NotFoundPage() {
  return (
    <div className="panel">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Back to the jobs</Link>
      </p>
    </div>
  );
}
