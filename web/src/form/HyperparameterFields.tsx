import { useMemo } from "react";
import type { Algorithm } from "../api/types";
import { describeRange, fieldsOf, parseInput, type FormField, type InputValue } from "./schemaForm";

/** The inputs of one algorithm's hyperparameters, generated from its JSON Schema; a value
 * that does not parse is marked as the user types. */
export function HyperparameterFields({
  algorithm,
  inputs,
  onChange,
  errorFor,
}: {
  algorithm: Algorithm;
  inputs: Record<string, InputValue>;
  onChange: (inputs: Record<string, InputValue>) => void;
  errorFor: (name: string) => string | undefined;
}) {
  const fields = useMemo(() => fieldsOf(algorithm.hyperparameterSchema), [algorithm]);
  if (fields.length === 0) {
    return <p className="muted">This algorithm has no predefined hyperparameters; use custom ones below.</p>;
  }
  return (
    <div className="grid hyper">
      {fields.map((field) => {
        const value = inputs[field.name] ?? "";
        const parsed = parseInput(field, value);
        const error = errorFor(field.name) ?? (parsed.ok ? undefined : parsed.error);
        return (
          <HyperField
            key={`${algorithm.name}.${field.name}`}
            id={`hp-${field.name}`}
            field={field}
            value={value}
            error={error}
            onChange={(next) => onChange({ ...inputs, [field.name]: next })}
          />
        );
      })}
    </div>
  );
}

function HyperField({
  id,
  field,
  value,
  error,
  onChange,
}: {
  id: string;
  field: FormField;
  value: InputValue;
  error: string | undefined;
  onChange: (value: InputValue) => void;
}) {
  const range = describeRange(field);
  const help = [field.help, range].filter(Boolean).join(" — ");
  const described = [help ? `${id}-help` : "", error ? `${id}-error` : ""].join(" ").trim() || undefined;
  const common = { id, "aria-invalid": Boolean(error), "aria-describedby": described };
  let control: React.ReactNode;
  if (field.kind === "boolean") {
    control = (
      <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
    );
  } else if (field.kind === "enum") {
    control = (
      <select {...common} value={String(value)} onChange={(e) => onChange(e.target.value)}>
        {field.nullable && <option value="">(none)</option>}
        {field.options.map((option) => (
          <option key={option}>{option}</option>
        ))}
      </select>
    );
  } else {
    const numeric = field.kind === "integer" || field.kind === "number";
    control = (
      <input
        {...common}
        type="text"
        inputMode={numeric ? "decimal" : undefined}
        value={String(value)}
        placeholder={field.nullable ? "none" : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className={`field ${field.kind === "boolean" ? "check" : ""}`}>
      <label htmlFor={id}>
        {field.label} <code className="muted small">{field.name}</code>
      </label>
      {control}
      {help && (
        <p className="help" id={`${id}-help`}>
          {help}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
