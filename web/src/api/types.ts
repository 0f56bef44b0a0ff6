// Names for the API's shapes, all taken from the generated OpenAPI types (schema.d.ts).
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Job = Schemas["TrainingJobResponse"];
export type JobRequest = Schemas["TrainingJobRequest"];
export type JobStatus = Schemas["JobStatusResponse"];
export type JobEvent = Schemas["JobEventResponse"];
export type JobLogs = Schemas["JobLogsResponse"];
export type JobCounts = Schemas["JobCountsResponse"];
export type DryRun = Schemas["DryRunResponse"];
export type Message = Schemas["MessageResponse"];
export type ClusterList = Schemas["ClusterListResponse"];
export type Cluster = Schemas["ClusterResponse"];
export type Capacity = Schemas["ClusterCapacity"];
export type InputChannel = Schemas["InputChannel"];

/** One entry of GET /algorithms (the route returns untyped JSON, so its shape is kept here). */
export interface Algorithm {
  name: string;
  title: string;
  framework: string;
  workloadKind: string;
  description: string;
  hyperparameterSchema: JsonSchema;
  defaults: Record<string, unknown>;
}

/** The subset of JSON Schema the algorithm catalogue uses. */
export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}

/** The job list's filters (query parameters of GET /jobs). */
export interface ListFilters {
  status?: string;
  algorithm?: string;
  namespace?: string;
  q?: string;
  limit?: number;
}

/** Every status the API gives a job. */
export const JOB_STATUSES = [
  "Pending",
  "Submitted",
  "Running",
  "Succeeded",
  "Failed",
  "Stopping",
  "Stopped",
  "Deleting",
] as const;

/** Statuses after which a job no longer changes (except by delete). */
export const FINAL_STATUSES: readonly string[] = ["Succeeded", "Failed", "Stopped"];
