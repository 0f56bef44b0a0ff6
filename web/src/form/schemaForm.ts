// From an algorithm's hyperparameter JSON Schema to form fields, and from what a user typed
// back to the JSON values the API accepts. Pure functions: the form component only renders.
import type { JsonSchema } from "../api/types";

export type ScalarKind = "integer" | "number" | "string" | "boolean";

/** How one hyperparameter is edited. */
export type FieldKind =
  | ScalarKind
  | "enum" // a choice among fixed values
  | "array" // comma-separated items of `itemKind`
  | "constOrNumber" // a fixed word (e.g. "auto") or a number
  | "json"; // anything else the catalogue may add: edited as JSON text

/** The limits a value (or each item of an array) must keep. */
export interface Rules {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  pattern?: string;
}

export interface FormField extends Rules {
  name: string;
  label: string;
  help: string;
  kind: FieldKind;
  /** Empty input means null. */
  nullable: boolean;
  options: string[];
  itemKind: ScalarKind;
  /** The word of a constOrNumber field ("auto"). */
  word: string | null;
  numberKind: "integer" | "number";
  /** The rules of each item of an array field. */
  item: Rules;
  minItems?: number;
  maxItems?: number;
  defaultValue: unknown;
}

const RULE_KEYS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength"] as const;

function rulesOf(schema: JsonSchema | undefined): Rules {
  const rules: Rules = {};
  for (const key of RULE_KEYS) {
    const value = schema?.[key];
    if (typeof value === "number") rules[key] = value;
  }
  if (schema?.pattern) rules.pattern = schema.pattern;
  return rules;
}

/** What an input holds: text for everything but checkboxes. */
export type InputValue = string | boolean;

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

const SCALARS: readonly string[] = ["integer", "number", "string", "boolean"];

function isScalarKind(type: string | undefined): type is ScalarKind {
  return type !== undefined && SCALARS.includes(type);
}

function kindOf(schema: JsonSchema): Pick<FormField, "kind" | "itemKind" | "options" | "word"> &
  { ranges: JsonSchema } {
  const none = { itemKind: "string" as ScalarKind, options: [] as string[], word: null };
  if (schema.enum) {
    return { ...none, kind: "enum", options: schema.enum.map(String), ranges: schema };
  }
  if (schema.type === "array" && isScalarKind(schema.items?.type)) {
    return { ...none, kind: "array", itemKind: schema.items.type, ranges: schema };
  }
  if (isScalarKind(schema.type)) return { ...none, kind: schema.type, ranges: schema };
  const variants = schema.anyOf ?? [];
  const word = variants.find((v) => typeof v.const === "string");
  const numeric = variants.find((v) => v.type === "integer" || v.type === "number");
  if (variants.length === 2 && word && numeric) {
    return { ...none, kind: "constOrNumber", word: String(word.const), ranges: numeric };
  }
  return { ...none, kind: "json", ranges: schema };
}

/** The form fields of a hyperparameter schema, in the schema's order. */
export function fieldsOf(schema: JsonSchema): FormField[] {
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const variants = property.anyOf ?? [];
    const nonNull = variants.filter((v) => v.type !== "null");
    const nullable = variants.length > 0 && nonNull.length < variants.length;
    // "X or null" is edited as X with an empty input meaning null.
    const editable = nullable && nonNull.length === 1 && nonNull[0] ? nonNull[0] : property;
    const { ranges, ...kind } = kindOf(editable);
    const numberKind = ranges.type === "integer" ? "integer" : "number";
    const array = kind.kind === "array";
    const field: FormField = {
      name,
      label: property.title ?? name,
      help: property.description ?? "",
      nullable,
      numberKind,
      defaultValue: property.default ?? null,
      ...kind,
      ...(array ? {} : rulesOf(ranges)),
      item: array ? rulesOf(ranges.items) : {},
    };
    if (typeof ranges.minItems === "number") field.minItems = ranges.minItems;
    if (typeof ranges.maxItems === "number") field.maxItems = ranges.maxItems;
    return field;
  });
}

/** A value as the field's input shows it. */
export function toInput(field: FormField, value: unknown): InputValue {
  if (field.kind === "boolean") return value === true;
  if (value === null || value === undefined) return "";
  if (field.kind === "array" && Array.isArray(value)) return value.map(String).join(", ");
  if (field.kind === "json") return JSON.stringify(value);
  return String(value);
}

function checkRange(field: Rules, n: number): string | null {
  if (field.minimum !== undefined && n < field.minimum) return `must be ≥ ${field.minimum}`;
  if (field.maximum !== undefined && n > field.maximum) return `must be ≤ ${field.maximum}`;
  if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) {
    return `must be > ${field.exclusiveMinimum}`;
  }
  if (field.exclusiveMaximum !== undefined && n >= field.exclusiveMaximum) {
    return `must be < ${field.exclusiveMaximum}`;
  }
  return null;
}

function parseNumber(field: Rules, text: string, kind: "integer" | "number"): ParseResult {
  const n = Number(text);
  if (text === "" || !Number.isFinite(n)) return { ok: false, error: "must be a number" };
  if (kind === "integer" && !Number.isInteger(n)) return { ok: false, error: "must be a whole number" };
  const problem = checkRange(field, n);
  return problem ? { ok: false, error: problem } : { ok: true, value: n };
}

function parseScalar(field: Rules, kind: ScalarKind, text: string): ParseResult {
  if (kind === "integer" || kind === "number") return parseNumber(field, text, kind);
  if (kind === "boolean") {
    if (text === "true" || text === "false") return { ok: true, value: text === "true" };
    return { ok: false, error: "must be true or false" };
  }
  if (field.maxLength !== undefined && text.length > field.maxLength) {
    return { ok: false, error: `at most ${field.maxLength} characters` };
  }
  if (field.pattern && !new RegExp(field.pattern, "u").test(text)) {
    return { ok: false, error: "has an unsupported value" };
  }
  return { ok: true, value: text };
}

/** The JSON value of what the user entered, or why it is not valid. */
export function parseInput(field: FormField, input: InputValue): ParseResult {
  if (field.kind === "boolean") return { ok: true, value: input === true };
  const text = String(input).trim();
  if (text === "" && field.nullable) return { ok: true, value: null };
  switch (field.kind) {
    case "enum":
      return field.options.includes(text)
        ? { ok: true, value: text }
        : { ok: false, error: `must be one of ${field.options.join(", ")}` };
    case "constOrNumber":
      return text === field.word ? { ok: true, value: text } : (() => {
        const number = parseNumber(field, text, field.numberKind);
        return number.ok ? number : { ok: false, error: `must be "${field.word}" or a number (${number.error})` };
      })();
    case "array": {
      const parts = text === "" ? [] : text.split(",").map((part) => part.trim());
      if (field.minItems !== undefined && parts.length < field.minItems) {
        return { ok: false, error: `needs at least ${field.minItems} item(s)` };
      }
      if (field.maxItems !== undefined && parts.length > field.maxItems) {
        return { ok: false, error: `at most ${field.maxItems} items` };
      }
      const values: unknown[] = [];
      for (const part of parts) {
        const item = parseScalar(field.item, field.itemKind, part);
        if (!item.ok) return { ok: false, error: `"${part}" ${item.error}` };
        values.push(item.value);
      }
      return { ok: true, value: values };
    }
    case "json":
      try {
        return { ok: true, value: JSON.parse(text) as unknown };
      } catch {
        return { ok: false, error: "must be JSON" };
      }
    default:
      return parseScalar(field, field.kind, text);
  }
}

/** The inputs of a fresh form: every field at its default. */
export function initialInputs(fields: FormField[]): Record<string, InputValue> {
  return Object.fromEntries(fields.map((f) => [f.name, toInput(f, f.defaultValue)]));
}

/** The hyperparameters object from the inputs, and the problems by field name. */
export function collectValues(
  fields: FormField[],
  inputs: Record<string, InputValue>,
): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const result = parseInput(field, inputs[field.name] ?? toInput(field, field.defaultValue));
    if (result.ok) values[field.name] = result.value;
    else errors[field.name] = result.error;
  }
  return { values, errors };
}

/** A one-line summary of a field's accepted values, for its help text. */
export function describeRange(field: FormField): string {
  const parts: string[] = [];
  if (field.minimum !== undefined) parts.push(`≥ ${field.minimum}`);
  if (field.exclusiveMinimum !== undefined) parts.push(`> ${field.exclusiveMinimum}`);
  if (field.maximum !== undefined) parts.push(`≤ ${field.maximum}`);
  if (field.exclusiveMaximum !== undefined) parts.push(`< ${field.exclusiveMaximum}`);
  if (field.kind === "constOrNumber") parts.unshift(`"${field.word}" or a number`);
  if (field.kind === "array") parts.push(`comma-separated ${field.itemKind} values`);
  if (field.nullable) parts.push("empty for none");
  return parts.join(", ");
}
