/**
 * The parts of a Swagger 2.0 document (Harbor's API description format) that Berth reads. Schemas and
 * parameters stay loosely typed: they are copied from Harbor's document, not interpreted.
 */
export type JsonObject = { [key: string]: unknown };

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface SwaggerResponse extends JsonObject {
  description?: string;
  schema?: JsonObject;
  $ref?: string;
}

export interface SwaggerParameter extends JsonObject {
  name?: string;
  in?: 'path' | 'query' | 'header' | 'body' | 'formData';
  required?: boolean;
  type?: string;
  $ref?: string;
}

export interface SwaggerOperation extends JsonObject {
  operationId?: string;
  summary?: string;
  produces?: string[];
  parameters?: SwaggerParameter[];
  responses: Record<string, SwaggerResponse>;
}

export type SwaggerPathItem = Partial<Record<HttpMethod, SwaggerOperation>>;

export interface SwaggerDocument extends JsonObject {
  swagger: string;
  info: { title: string; description?: string; version: string };
  basePath: string;
  produces?: string[];
  paths: Record<string, SwaggerPathItem>;
  parameters?: Record<string, SwaggerParameter>;
  responses?: Record<string, SwaggerResponse>;
  definitions?: Record<string, JsonObject>;
}

export function isHttpMethod(value: string): value is HttpMethod {
  return (HTTP_METHODS as readonly string[]).includes(value);
}
