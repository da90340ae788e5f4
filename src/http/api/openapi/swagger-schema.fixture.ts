import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parseRef } from './berth-document.js';
import type { JsonObject, SwaggerDocument, SwaggerOperation, SwaggerResponse } from './swagger.types.js';

/**
 * Validates answers against a Swagger 2.0 document's response schemas with ajv (JSON Schema draft-07).
 * Swagger 2.0 schemas are almost JSON Schema; the differences handled here: `x-nullable` (null allowed),
 * Go's numeric formats (`int32`, `int64`, `uint64`, ...), boolean `exclusiveMinimum`/`exclusiveMaximum`,
 * `type: file`, and annotation keywords (`example`, `x-*`, ...) that JSON Schema has not.
 *
 * Harbor's document is read as go-swagger, which generates Harbor's models from it, reads it: a bare
 * `type: object` (no properties, no additionalProperties) is Go's `interface{}`, any value (Harbor's
 * `ExtraAttrs` values are strings and numbers); and a nil slice or map is encoded as null, so arrays and
 * maps accept null (Harbor's own artifacts carry `"labels": null`).
 *
 * `strict` adds `additionalProperties: false` to every object schema that names its properties and says
 * nothing about others: Harbor's definitions allow extra fields, so a misspelt field would pass unseen.
 */
const ROOT_ID = 'berth-openapi';

// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is the module object.
const addFormats = ajvFormats.default;

/** The JSON Schema keywords kept, with how their value converts. */
const SCHEMA_MAPS = new Set(['properties']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const PLAIN = new Set([
  'type',
  'format',
  'enum',
  'required',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'multipleOf',
  'minProperties',
  'maxProperties',
]);

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function toJsonSchema(schema: unknown, strict: boolean): JsonObject | boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) return {};
  const nullable = schema['x-nullable'] === true;
  if (typeof schema['$ref'] === 'string') {
    const [, name] = parseRef(schema['$ref']);
    const ref = { $ref: `${ROOT_ID}#/definitions/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` };
    return nullable ? { anyOf: [ref, { type: 'null' }] } : ref;
  }
  if (schema['type'] === 'file') return {};
  const free = schema['properties'] === undefined && schema['additionalProperties'] === undefined;
  if (schema['type'] === 'object' && free) return {};
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      result[key] = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, toJsonSchema(property, strict)]),
      );
    } else if (SCHEMA_VALUES.has(key)) {
      result[key] = toJsonSchema(value, strict);
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      result[key] = value.map((entry) => toJsonSchema(entry, strict));
    } else if (PLAIN.has(key)) {
      result[key] = value;
    }
  }
  // Swagger 2.0's exclusive bounds are flags on minimum/maximum; draft-07's are the bounds themselves.
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (schema[flag] === true && typeof result[bound] === 'number') {
      result[flag] = result[bound];
      delete result[bound];
    }
  }
  if (strict && result['properties'] !== undefined && result['additionalProperties'] === undefined) {
    result['additionalProperties'] = false;
  }
  const goNil =
    result['type'] === 'array' || (result['type'] === 'object' && result['properties'] === undefined);
  if (nullable || goNil) {
    if (typeof result['type'] === 'string') result['type'] = [result['type'], 'null'];
    if (Array.isArray(result['enum'])) result['enum'] = [...(result['enum'] as unknown[]), null];
  }
  return result;
}

const int = (min: number, max: number) => ({
  type: 'number' as const,
  validate: (value: number) => Number.isInteger(value) && value >= min && value <= max,
});
const anyNumber = { type: 'number' as const, validate: (value: number) => Number.isFinite(value) };

function newAjv(document: SwaggerDocument, strict: boolean): Ajv {
  // Union types are what x-nullable becomes; strict schema mode still refuses unknown keywords.
  const ajv = new Ajv({ allErrors: true, strictTypes: false, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addFormat('int8', int(-(2 ** 7), 2 ** 7 - 1));
  ajv.addFormat('int32', int(-(2 ** 31), 2 ** 31 - 1));
  ajv.addFormat('int', int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  // JSON numbers past 2^53 lose precision in JavaScript: a correct int64 answer stays within it.
  ajv.addFormat('int64', int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  ajv.addFormat('uint64', int(0, Number.MAX_SAFE_INTEGER));
  ajv.addFormat('float', anyNumber);
  ajv.addFormat('float64', anyNumber);
  ajv.addFormat('double', anyNumber);
  const definitions = Object.fromEntries(
    Object.entries(document.definitions ?? {}).map(([name, schema]) => [name, toJsonSchema(schema, strict)]),
  );
  ajv.addSchema({ $id: ROOT_ID, definitions });
  return ajv;
}

export interface ShapeProblem {
  path: string;
  message: string;
}

/** The success answer an operation documents (the lowest 2xx), its $ref resolved. */
export function successResponse(
  document: SwaggerDocument,
  operation: SwaggerOperation,
): { status: number; response: SwaggerResponse } | undefined {
  const status = Object.keys(operation.responses)
    .filter((code) => /^2\d\d$/.test(code))
    .sort()[0];
  if (status === undefined) return undefined;
  let response = operation.responses[status] as SwaggerResponse;
  if (typeof response.$ref === 'string') {
    const [section, name] = parseRef(response.$ref);
    if (section !== 'responses') throw new Error(`response ${status} refers to ${response.$ref}`);
    response = document.responses?.[name] ?? {};
  }
  return { status: Number(status), response };
}

/** Validators of one document: lenient (as the document says) and strict (no field it does not name). */
export class ShapeValidator {
  readonly #ajv: { lenient: Ajv; strict: Ajv };
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(document: SwaggerDocument) {
    this.#ajv = { lenient: newAjv(document, false), strict: newAjv(document, true) };
  }

  /** Problems of `body` against `schema` (a Swagger 2.0 schema); empty when it conforms. */
  validate(schema: JsonObject, body: unknown, mode: 'lenient' | 'strict'): ShapeProblem[] {
    const key = `${mode} ${JSON.stringify(schema)}`;
    let validate = this.#compiled.get(key);
    if (validate === undefined) {
      const converted = toJsonSchema(schema, mode === 'strict');
      validate = this.#ajv[mode].compile(typeof converted === 'boolean' ? {} : converted);
      this.#compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error: ErrorObject) => ({
      path: error.instancePath || '/',
      message:
        error.keyword === 'additionalProperties'
          ? `has field "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}", which the definition does not name`
          : (error.message ?? error.keyword),
    }));
  }
}
