import { RequestValidationError, type ValidationIssue } from "./fastapi-errors.js";

/**
 * A small pydantic-like reader: each `read*` call checks one field, records a FastAPI-shaped issue
 * (`type`, `loc`, `msg`, `input`) when it is wrong, and `done()` throws a 422 with all of them.
 */
export class BodyReader {
  private readonly issues: ValidationIssue[] = [];
  readonly body: Record<string, unknown>;

  constructor(
    raw: unknown,
    private readonly loc: ReadonlyArray<string | number> = ["body"],
  ) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      this.issues.push({
        type: "model_attributes_type",
        loc: [...loc],
        msg: "Input should be a valid dictionary or object to extract fields from",
        input: raw,
      });
      this.body = {};
    } else {
      this.body = raw as Record<string, unknown>;
    }
  }

  /** Records an issue about `field` found by the caller's own rule. */
  fail(field: string | number, type: string, msg: string, input: unknown): void {
    this.issue(field, type, msg, input);
  }

  private issue(
    field: string | number,
    type: string,
    msg: string,
    input: unknown,
    ctx?: Record<string, unknown>,
  ) {
    this.issues.push({ type, loc: [...this.loc, field], msg, input, ...(ctx ? { ctx } : {}) });
  }

  /** Records issues found by a nested reader. */
  merge(other: BodyReader): void {
    this.issues.push(...other.issues);
  }

  private present(field: string, required: boolean): boolean {
    const value = this.body[field];
    if (value === undefined) {
      if (required) this.issue(field, "missing", "Field required", this.body);
      return false;
    }
    return value !== null;
  }

  string(field: string, opts: { required?: boolean } = {}): string | undefined {
    if (!this.present(field, opts.required ?? false)) return undefined;
    const value = this.body[field];
    if (typeof value !== "string") {
      this.issue(field, "string_type", "Input should be a valid string", value);
      return undefined;
    }
    return value;
  }

  boolean(field: string): boolean | undefined {
    if (!this.present(field, false)) return undefined;
    const value = this.body[field];
    if (typeof value !== "boolean") {
      this.issue(field, "bool_type", "Input should be a valid boolean", value);
      return undefined;
    }
    return value;
  }

  integer(field: string): number | undefined {
    if (!this.present(field, false)) return undefined;
    const value = this.body[field];
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.issue(field, "int_type", "Input should be a valid integer", value);
      return undefined;
    }
    return value;
  }

  literal<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    if (!this.present(field, false)) return undefined;
    const value = this.body[field];
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      const expected = allowed.map((item) => `'${item}'`);
      const last = expected.pop();
      this.issue(field, "enum", `Input should be ${expected.join(", ")} or ${last}`, value, {
        expected: `${expected.join(", ")} or ${last}`,
      });
      return undefined;
    }
    return value as T;
  }

  stringList(field: string): string[] | undefined {
    if (!this.present(field, false)) return undefined;
    const value = this.body[field];
    if (!Array.isArray(value)) {
      this.issue(field, "list_type", "Input should be a valid list", value);
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item, index) => {
      if (typeof item === "string") out.push(item);
      else
        this.issues.push({
          type: "string_type",
          loc: [...this.loc, field, index],
          msg: "Input should be a valid string",
          input: item,
        });
    });
    return out;
  }

  stringMap(field: string): Record<string, string> | undefined {
    if (!this.present(field, false)) return undefined;
    const value = this.body[field];
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.issue(field, "dict_type", "Input should be a valid dictionary", value);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === "string") out[key] = item;
      else
        this.issues.push({
          type: "string_type",
          loc: [...this.loc, field, key],
          msg: "Input should be a valid string",
          input: item,
        });
    }
    return out;
  }

  object(field: string): BodyReader | undefined {
    if (!this.present(field, false)) return undefined;
    return new BodyReader(this.body[field], [...this.loc, field]);
  }

  list(field: string, opts: { required?: boolean } = {}): BodyReader[] | undefined {
    if (!this.present(field, opts.required ?? false)) return undefined;
    const value = this.body[field];
    if (!Array.isArray(value)) {
      this.issue(field, "list_type", "Input should be a valid list", value);
      return undefined;
    }
    return value.map((item, index) => new BodyReader(item, [...this.loc, field, index]));
  }

  get failed(): boolean {
    return this.issues.length > 0;
  }

  /** Throws the 422 when any field was wrong. */
  done(): void {
    if (this.issues.length > 0) throw new RequestValidationError(this.issues);
  }
}
