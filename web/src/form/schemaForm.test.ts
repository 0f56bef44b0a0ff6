import { beforeAll, describe, expect, inject, it } from "vitest";
import type { Algorithm, JsonSchema } from "../api/types";
import {
  collectValues,
  describeRange,
  fieldsOf,
  initialInputs,
  parseInput,
  toInput,
  type FormField,
} from "./schemaForm";

let catalogue: Algorithm[] = [];

beforeAll(async () => {
  const response = await fetch(`${inject("apiUrl")}/api/v1/algorithms`);
  expect(response.status).toBe(200);
  catalogue = (await response.json()) as Algorithm[];
});

function field(schema: Algorithm, name: string): FormField {
  const found = fieldsOf(schema.hyperparameterSchema).find((f) => f.name === name);
  if (!found) throw new Error(`${schema.name} has no field ${name}`);
  return found;
}

function algorithm(name: string): Algorithm {
  const found = catalogue.find((a) => a.name === name);
  if (!found) throw new Error(`no algorithm ${name}`);
  return found;
}

describe("every algorithm of the running API", () => {
  it("has the 11 algorithms including the custom container", () => {
    expect(catalogue.map((a) => a.name).sort()).toEqual(
      [
        "container",
        "deepspeed-zero3",
        "horovod-mpi",
        "jax-pjit",
        "lightgbm",
        "pytorch",
        "tensorflow-cnn",
        "tensorflow-transformer",
        "tf-distributed",
        "torch-mpi",
        "xgboost",
      ].sort(),
    );
  });

  it("gets a typed input for every property (no JSON fallback)", () => {
    for (const a of catalogue) {
      const fields = fieldsOf(a.hyperparameterSchema);
      expect(fields.length, a.name).toBe(Object.keys(a.hyperparameterSchema.properties ?? {}).length);
      for (const f of fields) expect(f.kind, `${a.name}.${f.name}`).not.toBe("json");
    }
  });

  it("turns an untouched form back into exactly the catalogue's defaults", () => {
    for (const a of catalogue) {
      const fields = fieldsOf(a.hyperparameterSchema);
      const { values, errors } = collectValues(fields, initialInputs(fields));
      expect(errors, a.name).toEqual({});
      expect(values, a.name).toEqual(a.defaults);
    }
  });

  it("labels every field and describes its range", () => {
    for (const a of catalogue) {
      for (const f of fieldsOf(a.hyperparameterSchema)) {
        expect(f.label, `${a.name}.${f.name}`).not.toBe("");
        if (f.minimum !== undefined) expect(describeRange(f)).toContain(`≥ ${f.minimum}`);
      }
    }
  });
});

describe("field kinds", () => {
  it("nullable integer: empty is null, a number is kept, a fraction is refused", () => {
    const f = field(algorithm("xgboost"), "early_stopping_rounds");
    expect(f.kind).toBe("integer");
    expect(f.nullable).toBe(true);
    expect(parseInput(f, "")).toEqual({ ok: true, value: null });
    expect(parseInput(f, "10")).toEqual({ ok: true, value: 10 });
    expect(parseInput(f, "1.5")).toMatchObject({ ok: false });
    expect(parseInput(f, "0")).toEqual({ ok: false, error: "must be ≥ 1" });
  });

  it('"auto" or a number', () => {
    const f = field(algorithm("xgboost"), "nthread");
    expect(f.kind).toBe("constOrNumber");
    expect(f.word).toBe("auto");
    expect(toInput(f, f.defaultValue)).toBe("auto");
    expect(parseInput(f, "auto")).toEqual({ ok: true, value: "auto" });
    expect(parseInput(f, "8")).toEqual({ ok: true, value: 8 });
    expect(parseInput(f, "0")).toMatchObject({ ok: false });
    expect(parseInput(f, "many")).toMatchObject({ ok: false });
  });

  it("enum: only the listed values", () => {
    const f = field(algorithm("xgboost"), "booster");
    expect(f.kind).toBe("enum");
    expect(f.options).toContain("gbtree");
    expect(parseInput(f, "gbtree")).toEqual({ ok: true, value: "gbtree" });
    expect(parseInput(f, "forest")).toMatchObject({ ok: false });
  });

  it("array of patterned strings: comma-separated, each checked", () => {
    const f = field(algorithm("xgboost"), "eval_metric");
    expect(f.kind).toBe("array");
    expect(toInput(f, ["rmse", "mae"])).toBe("rmse, mae");
    expect(parseInput(f, "rmse, auc")).toEqual({ ok: true, value: ["rmse", "auc"] });
    expect(parseInput(f, "rmse, nonsense")).toMatchObject({ ok: false });
  });

  it("nullable array of integers with item bounds", () => {
    const f = field(algorithm("jax-pjit"), "mesh_shape");
    expect(f.kind).toBe("array");
    expect(f.itemKind).toBe("integer");
    expect(parseInput(f, "")).toEqual({ ok: true, value: null });
    expect(parseInput(f, "2, 4")).toEqual({ ok: true, value: [2, 4] });
    expect(parseInput(f, "2, 0")).toMatchObject({ ok: false });
    expect(parseInput(f, "1,1,1,1,1,1,1")).toEqual({ ok: false, error: "at most 6 items" });
  });

  it("exclusive bounds on numbers", () => {
    const f = field(algorithm("xgboost"), "subsample");
    expect(parseInput(f, "0")).toEqual({ ok: false, error: "must be > 0" });
    expect(parseInput(f, "1")).toEqual({ ok: true, value: 1 });
    expect(parseInput(f, "1.01")).toEqual({ ok: false, error: "must be ≤ 1" });
  });

  it("booleans are checkboxes", () => {
    const schema: JsonSchema = { properties: { flag: { type: "boolean", default: true } } };
    const [f] = fieldsOf(schema);
    expect(f?.kind).toBe("boolean");
    if (!f) return;
    expect(toInput(f, true)).toBe(true);
    expect(parseInput(f, false)).toEqual({ ok: true, value: false });
  });

  it("an unknown shape is edited as JSON rather than dropped", () => {
    const schema: JsonSchema = { properties: { odd: { type: "object", default: { a: 1 } } } };
    const [f] = fieldsOf(schema);
    expect(f?.kind).toBe("json");
    if (!f) return;
    expect(parseInput(f, '{"a": 2}')).toEqual({ ok: true, value: { a: 2 } });
    expect(parseInput(f, "{")).toEqual({ ok: false, error: "must be JSON" });
  });

  it("collectValues reports problems by field name", () => {
    const fields = fieldsOf(algorithm("xgboost").hyperparameterSchema);
    const inputs = { ...initialInputs(fields), eta: "fast", max_depth: "-1" };
    const { errors } = collectValues(fields, inputs);
    expect(Object.keys(errors).sort()).toEqual(["eta", "max_depth"]);
  });
});
