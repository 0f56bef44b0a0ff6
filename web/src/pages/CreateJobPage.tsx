import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router-dom";
import { api } from "../api";
import { ApiError, fieldProblems } from "../api/client";
import type { Algorithm, Cluster, DryRun, JobRequest } from "../api/types";
import { ErrorPanel, Loading } from "../components/States";
import { formatQuantity, parseQuantity } from "../components/quantity";
import { HyperparameterFields } from "../form/HyperparameterFields";
import {
  collectValues,
  fieldsOf,
  initialInputs,
  type InputValue,
} from "../form/schemaForm";

interface Channel {
  key: number;
  channelName: string;
  storageProvider: string;
  endpoint: string;
  bucket: string;
  prefix: string;
}

interface FormState {
  jobName: string;
  namespace: string;
  priority: string;
  algorithm: string;
  imageUri: string;
  cpuCores: string;
  memoryGiB: string;
  gpuCount: string;
  instanceCount: string;
  volumeSizeGB: string;
  maxRuntimeSeconds: string;
  artifactUri: string;
  channels: Channel[];
  targetClusters: string[];
  custom: string;
  hyper: Record<string, InputValue>;
}

const INITIAL: FormState = {
  jobName: "",
  namespace: "default",
  priority: "0",
  algorithm: "xgboost",
  imageUri: "",
  cpuCores: "2",
  memoryGiB: "4",
  gpuCount: "0",
  instanceCount: "1",
  volumeSizeGB: "10",
  maxRuntimeSeconds: "14400",
  artifactUri: "",
  channels: [],
  targetClusters: [],
  custom: "",
  hyper: {},
};

const PROVIDERS = ["minio", "s3", "gcs", "azure", "hdfs", "nfs"];
const CUSTOM_ALGORITHM = "container";

/** A random key per submission (crypto.randomUUID needs a secure origin; this does not). */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Environment-variable style `KEY=value` lines, one per custom hyperparameter. */
function parseCustom(text: string): { values: Record<string, string>; error: string | null } {
  const values: Record<string, string> = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at <= 0) return { values, error: `line ${index + 1}: expected KEY=value` };
    values[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { values, error: null };
}

/** The request the form describes, and the problems that stop it from being sent. */
function buildRequest(
  form: FormState,
  algorithm: Algorithm | undefined,
): { request: JobRequest; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const fields = algorithm ? fieldsOf(algorithm.hyperparameterSchema) : [];
  const hyper = collectValues(fields, form.hyper);
  for (const [name, error] of Object.entries(hyper.errors)) {
    errors[`hyperparameters.${form.algorithm}.${name}`] = error;
  }
  const custom = parseCustom(form.custom);
  if (custom.error) errors.customHyperparameters = custom.error;
  const container = form.algorithm === CUSTOM_ALGORITHM;
  const request: JobRequest = {
    jobName: form.jobName.trim(),
    namespace: form.namespace.trim(),
    priority: Number(form.priority),
    algorithm: {
      source: container ? "container" : "builtin",
      algorithmName: form.algorithm,
      ...(container ? { imageUri: form.imageUri.trim() } : {}),
    },
    resources: {
      instanceResources: {
        cpuCores: Number(form.cpuCores),
        memoryGiB: Number(form.memoryGiB),
        gpuCount: Number(form.gpuCount),
      },
      instanceCount: Number(form.instanceCount),
      volumeSizeGB: Number(form.volumeSizeGB),
    },
    stoppingCondition: { maxRuntimeSeconds: Number(form.maxRuntimeSeconds) },
    inputDataConfig: form.channels.map((c) => ({
      id: `channel-${c.key}`,
      channelName: c.channelName.trim(),
      sourceType: "object-storage",
      storageProvider: c.storageProvider,
      endpoint: c.endpoint.trim(),
      bucket: c.bucket.trim(),
      prefix: c.prefix.trim(),
    })),
    outputDataConfig: form.artifactUri.trim() ? { artifactUri: form.artifactUri.trim() } : null,
    hyperparameters: { [form.algorithm]: hyper.values },
    customHyperparameters: custom.values,
    targetClusters: form.targetClusters,
  };
  return { request, errors };
}

export default function CreateJobPage() {
  const algorithms = useQuery({ queryKey: ["algorithms"], queryFn: api.algorithms, staleTime: Infinity });
  const clusters = useQuery({ queryKey: ["clusters"], queryFn: api.clusters });
  if (algorithms.isPending) return <Loading what="algorithms" />;
  if (algorithms.isError) {
    return <ErrorPanel error={algorithms.error} onRetry={() => void algorithms.refetch()} />;
  }
  return (
    <JobForm
      algorithms={algorithms.data}
      clusters={clusters.data?.clusters ?? null}
      clustersError={clusters.error}
    />
  );
}

function JobForm({
  algorithms,
  clusters,
  clustersError,
}: {
  algorithms: Algorithm[];
  clusters: Cluster[] | null;
  clustersError: Error | null;
}) {
  const navigate = useNavigate();
  const [form, setForm] = useState<FormState>(() => withDefaults(INITIAL, algorithms));
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<DryRun | null>(null);
  const nextChannel = useRef(1);
  // One key per submitted request: a double click or a retry of the same request reuses it,
  // so the server stores one job; a changed form gets a new key.
  const submission = useRef<{ body: string; key: string } | null>(null);

  const algorithm = algorithms.find((a) => a.name === form.algorithm);
  const built = useMemo(() => buildRequest(form, algorithm), [form, algorithm]);

  const create = useMutation({
    mutationFn: (request: JobRequest) => {
      const body = JSON.stringify(request);
      if (submission.current?.body !== body) submission.current = { body, key: newKey() };
      return api.createJob(request, submission.current.key);
    },
    onSuccess: (job) => navigate(`/jobs/${encodeURIComponent(job.id)}`),
  });
  const dryRun = useMutation({
    mutationFn: (request: JobRequest) => api.previewJob(request),
    onSuccess: setPreview,
  });
  const serverError = create.error ?? dryRun.error;
  const problems = fieldProblems(serverError);
  const errors: Record<string, string> = { ...localErrors };
  for (const problem of problems) errors[problem.path.join(".")] ??= problem.message;
  const shownPaths = new Set<string>();
  const errorFor = (path: string) => {
    shownPaths.add(path);
    return errors[path];
  };

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setPreview(null);
  };
  const check = (): JobRequest | null => {
    setLocalErrors(built.errors);
    return Object.keys(built.errors).length === 0 ? built.request : null;
  };

  const fieldsProps = (name: keyof FormState, path: string = name) => ({
    id: `f-${name}`,
    value: form[name] as string,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      set(name, e.target.value as never),
    error: errorFor(path),
  });

  return (
    <form
      className="job-form"
      aria-labelledby="create-title"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const request = check();
        if (request && !create.isPending) create.mutate(request);
      }}
    >
      <h1 id="create-title">New training job</h1>

      <fieldset>
        <legend>Job</legend>
        <div className="grid">
          <TextField label="Name" help="Lowercase letters, digits and '-', at most 38." required {...fieldsProps("jobName")} />
          <TextField label="Namespace" {...fieldsProps("namespace")} />
          <TextField label="Priority" type="number" help="0 (lowest) upwards." {...fieldsProps("priority")} />
        </div>
      </fieldset>

      <fieldset>
        <legend>Algorithm</legend>
        <div className="algorithms" role="radiogroup" aria-label="Algorithm">
          {algorithms.map((a) => (
            <label key={a.name} className={`algorithm ${a.name === form.algorithm ? "selected" : ""}`}>
              <input
                type="radio"
                name="algorithm"
                value={a.name}
                checked={a.name === form.algorithm}
                onChange={() => {
                  setForm((f) => withDefaults({ ...f, algorithm: a.name }, algorithms));
                  setPreview(null);
                }}
              />
              <span className="algorithm-title">{a.title}</span>
              <span className="muted small">{a.workloadKind}</span>
              <span className="small">{a.description}</span>
            </label>
          ))}
        </div>
        {form.algorithm === CUSTOM_ALGORITHM && (
          <TextField
            label="Container image"
            help="The training image to run, e.g. registry.example/team/train:1.2"
            required
            {...fieldsProps("imageUri", "algorithm.imageUri")}
          />
        )}
      </fieldset>

      {algorithm && (
        <fieldset>
          <legend>Hyperparameters of {algorithm.title}</legend>
          <HyperparameterFields
            algorithm={algorithm}
            inputs={form.hyper}
            onChange={(hyper) => set("hyper", hyper)}
            errorFor={(name) => errorFor(`hyperparameters.${algorithm.name}.${name}`)}
          />
          <label htmlFor="f-custom">Custom hyperparameters</label>
          <textarea
            id="f-custom"
            rows={3}
            value={form.custom}
            placeholder="LABEL_COLUMN=target"
            aria-describedby="f-custom-help"
            aria-invalid={Boolean(errorFor("customHyperparameters"))}
            onChange={(e) => set("custom", e.target.value)}
          />
          <p id="f-custom-help" className="help">
            One KEY=value per line; passed to the training code as environment variables.
          </p>
          <FieldError message={errorFor("customHyperparameters")} />
        </fieldset>
      )}

      <fieldset>
        <legend>Resources</legend>
        <div className="grid">
          <TextField label="CPU cores per instance" type="number" {...fieldsProps("cpuCores", "resources.instanceResources.cpuCores")} />
          <TextField label="Memory per instance (GiB)" type="number" {...fieldsProps("memoryGiB", "resources.instanceResources.memoryGiB")} />
          <TextField label="GPUs per instance" type="number" {...fieldsProps("gpuCount", "resources.instanceResources.gpuCount")} />
          <TextField label="Instances" type="number" {...fieldsProps("instanceCount", "resources.instanceCount")} />
          <TextField label="Volume size (GB)" type="number" {...fieldsProps("volumeSizeGB", "resources.volumeSizeGB")} />
          <TextField label="Max runtime (seconds)" type="number" help="The job is stopped after this long." {...fieldsProps("maxRuntimeSeconds", "stoppingCondition.maxRuntimeSeconds")} />
        </div>
      </fieldset>

      <fieldset>
        <legend>Data</legend>
        {form.channels.length === 0 && <p className="muted">No input channels.</p>}
        {form.channels.map((channel, index) => (
          <ChannelRow
            key={channel.key}
            channel={channel}
            index={index}
            errorFor={(name) => errorFor(`inputDataConfig.${index}.${name}`)}
            onChange={(next) =>
              set("channels", form.channels.map((c) => (c.key === channel.key ? next : c)))
            }
            onRemove={() => set("channels", form.channels.filter((c) => c.key !== channel.key))}
          />
        ))}
        <button
          type="button"
          onClick={() =>
            set("channels", [
              ...form.channels,
              {
                key: nextChannel.current++,
                channelName: form.channels.length === 0 ? "train" : "validation",
                storageProvider: "minio",
                endpoint: "",
                bucket: "",
                prefix: "",
              },
            ])
          }
        >
          Add input channel
        </button>
        <TextField label="Output URI" help="Where artifacts go, e.g. s3://bucket/run/ or file:///results" {...fieldsProps("artifactUri", "outputDataConfig.artifactUri")} />
      </fieldset>

      <fieldset>
        <legend>Target clusters</legend>
        <ClusterPicker
          clusters={clusters}
          error={clustersError}
          selected={form.targetClusters}
          onChange={(names) => set("targetClusters", names)}
        />
        <FieldError message={errorFor("targetClusters")} />
      </fieldset>

      {serverError && (
        <OtherProblems error={serverError} problems={problems} shown={shownPaths} />
      )}
      {Object.keys(localErrors).length > 0 && (
        <p className="notice warn" role="alert">
          Some fields need attention: {Object.keys(localErrors).length} problem(s) are marked above.
        </p>
      )}

      <div className="actions">
        <button
          type="button"
          disabled={dryRun.isPending}
          onClick={() => {
            const request = check();
            if (request) dryRun.mutate(request);
          }}
        >
          {dryRun.isPending ? "Previewing…" : "Preview"}
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create job"}
        </button>
      </div>

      {preview && <Preview preview={preview} />}
    </form>
  );
}

/** The form with the selected algorithm's hyperparameter defaults (when not yet filled). */
function withDefaults(form: FormState, algorithms: Algorithm[]): FormState {
  const algorithm = algorithms.find((a) => a.name === form.algorithm) ?? algorithms[0];
  if (!algorithm) return form;
  return {
    ...form,
    algorithm: algorithm.name,
    hyper: initialInputs(fieldsOf(algorithm.hyperparameterSchema)),
  };
}

export function FieldError({ message, id }: { message: string | undefined; id?: string }) {
  if (!message) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  );
}

function TextField({
  id,
  label,
  help,
  error,
  type = "text",
  required = false,
  value,
  onChange,
}: {
  id: string;
  label: string;
  help?: string;
  error: string | undefined;
  type?: string;
  required?: boolean;
  value: string;
  onChange: (e: React.ChangeEvent<HTMLInputElement>) => void;
}) {
  const described = [help ? `${id}-help` : "", error ? `${id}-error` : ""].join(" ").trim();
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        type={type}
        value={value}
        required={required}
        aria-invalid={Boolean(error)}
        aria-describedby={described || undefined}
        onChange={onChange}
      />
      {help && (
        <p className="help" id={`${id}-help`}>
          {help}
        </p>
      )}
      <FieldError message={error} id={`${id}-error`} />
    </div>
  );
}

function ChannelRow({
  channel,
  index,
  errorFor,
  onChange,
  onRemove,
}: {
  channel: Channel;
  index: number;
  errorFor: (name: string) => string | undefined;
  onChange: (channel: Channel) => void;
  onRemove: () => void;
}) {
  const input = (name: keyof Omit<Channel, "key">, label: string) => {
    const id = `ch-${channel.key}-${name}`;
    const error = errorFor(name);
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        {name === "storageProvider" ? (
          <select id={id} value={channel[name]} onChange={(e) => onChange({ ...channel, [name]: e.target.value })}>
            {PROVIDERS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        ) : (
          <input
            id={id}
            value={channel[name]}
            aria-invalid={Boolean(error)}
            onChange={(e) => onChange({ ...channel, [name]: e.target.value })}
          />
        )}
        <FieldError message={error} />
      </div>
    );
  };
  return (
    <div className="channel" role="group" aria-label={`Input channel ${index + 1}`}>
      {input("channelName", "Channel name")}
      {input("storageProvider", "Provider")}
      {input("endpoint", "Endpoint")}
      {input("bucket", "Bucket")}
      {input("prefix", "Prefix")}
      <button type="button" className="link danger" onClick={onRemove}>
        Remove channel {index + 1}
      </button>
    </div>
  );
}

function ClusterPicker({
  clusters,
  error,
  selected,
  onChange,
}: {
  clusters: Cluster[] | null;
  error: Error | null;
  selected: string[];
  onChange: (names: string[]) => void;
}) {
  if (error) return <ErrorPanel error={error} title="Cannot list the clusters" />;
  if (!clusters) return <Loading what="clusters" />;
  return (
    <>
      <p className="help">None selected: any ready cluster. Karmada runs the job on exactly one.</p>
      <ul className="cluster-picks">
        {clusters.map((c) => {
          const free = (key: "cpu" | "memory" | "gpu") => {
            const total = parseQuantity(c.capacity?.[key]);
            const used = parseQuantity(c.allocated?.[key]) ?? 0;
            return total === null ? null : Math.max(0, total - used);
          };
          return (
            <li key={c.name}>
              <label>
                <input
                  type="checkbox"
                  checked={selected.includes(c.name)}
                  onChange={(e) =>
                    onChange(
                      e.target.checked ? [...selected, c.name] : selected.filter((n) => n !== c.name),
                    )
                  }
                />
                <strong>{c.name}</strong>{" "}
                <span className={`badge ${c.ready ? "status-succeeded" : "status-failed"}`}>
                  {c.ready ? "Ready" : "Not ready"}
                </span>{" "}
                <span className="muted small">
                  {[c.region, c.zone].filter(Boolean).join(" / ") || "no region"} · free:{" "}
                  {formatQuantity(free("cpu"), "cpu")} CPU, {formatQuantity(free("memory"), "memory")},{" "}
                  {formatQuantity(free("gpu"), "count")} GPU
                </span>
              </label>
            </li>
          );
        })}
      </ul>
    </>
  );
}

/** The server's answer when no field shows it: its message and the problems not placed. */
function OtherProblems({
  error,
  problems,
  shown,
}: {
  error: Error;
  problems: ReturnType<typeof fieldProblems>;
  shown: Set<string>;
}) {
  const unplaced = problems.filter((p) => !shown.has(p.path.join(".")));
  if (problems.length > 0 && unplaced.length === 0) {
    return (
      <p className="notice warn" role="alert">
        {error.message}: see the marked fields.
      </p>
    );
  }
  return (
    <div className="panel error" role="alert">
      <h2>{error instanceof ApiError && error.status ? `The API answered ${error.status}` : "Not sent"}</h2>
      <p>{error.message}</p>
      {unplaced.length > 0 && (
        <ul>
          {unplaced.map((p) => (
            <li key={p.path.join(".")}>
              <code>{p.path.join(".") || "request"}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Preview({ preview }: { preview: DryRun }) {
  return (
    <section className="panel preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <p>{preview.message}</p>
      <p>
        Candidate clusters:{" "}
        <strong>{preview.candidateClusters.length > 0 ? preview.candidateClusters.join(", ") : "none"}</strong>
      </p>
      {preview.manifests.map((manifest, index) => {
        const kind = String(manifest.kind ?? "object");
        const meta = manifest.metadata as { name?: string } | undefined;
        return (
          <details key={index} open={index === 0}>
            <summary>
              {kind} {meta?.name ?? ""}
            </summary>
            <pre tabIndex={0}>{JSON.stringify(manifest, null, 2)}</pre>
          </details>
        );
      })}
    </section>
  );
}
