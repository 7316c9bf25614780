import type { ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { Response } from 'supertest';
import { documentAjv, rebase } from './validators.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Operation {
  id: string;
  method: string;
  path: string;
  operation: Json;
}

/**
 * Checks real exchanges against an OpenAPI document: the request path fits the operation's
 * template, the request body fits its schema, the status is documented, and the response body
 * (JSON) fits the documented schema — validated with ajv over the document's own schemas.
 */
export class ContractChecker {
  readonly operations = new Map<string, Operation>();
  /** operationId → the statuses seen. */
  readonly exercised = new Map<string, Set<number>>();
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    this.ajv = documentAjv(doc as { components: { schemas: Record<string, unknown> } });
    for (const [path, item] of Object.entries(doc['paths'] as Json)) {
      for (const [method, operation] of Object.entries(item as Json)) {
        if (method === 'parameters') continue;
        this.operations.set(operation.operationId, { id: operation.operationId, method: method.toUpperCase(), path, operation });
      }
    }
  }

  /** Validates one exchange made with supertest; returns the response for further checks. */
  check(id: string, concretePath: string, res: Response, requestBody?: unknown): Response {
    const op = this.operations.get(id);
    expect(op, `operation ${id} is documented`).toBeDefined();
    const { operation, path, method } = op!;
    expect((res as unknown as { req: { method: string } }).req.method, `${id}: method`).toBe(method);
    const template = new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`);
    expect(concretePath, `${id}: path fits ${path}`).toMatch(template);
    if (requestBody !== undefined) this.checkRequest(op!, requestBody);
    const documented = this.resolve(operation.responses[String(res.status)]);
    expect(documented, `${id}: status ${res.status} is documented (body: ${JSON.stringify(res.body).slice(0, 300)})`).toBeDefined();
    const response = documented!;
    const documentedTypes = Object.keys(response.content ?? {});
    if (documentedTypes.length === 0) {
      expect(res.text ?? '', `${id}: ${res.status} has no body`).toBe('');
    } else {
      const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
      expect(documentedTypes, `${id}: ${res.status} content type`).toContain(type);
      if (type === 'application/json') this.validate(`${id} ${res.status} response`, response.content[type].schema, res.body);
    }
    for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
      // Idempotency-Replayed is only on replays; every other documented header is always sent.
      if (name !== 'Idempotency-Replayed' && this.resolve(header)) expect(res.headers[name.toLowerCase()], `${id}: ${res.status} header ${name}`).toBeDefined();
    }
    let seen = this.exercised.get(id);
    if (!seen) this.exercised.set(id, (seen = new Set()));
    seen.add(res.status);
    return res;
  }

  private checkRequest(op: Operation, body: unknown): void {
    const content = this.resolve(op.operation.requestBody)?.content;
    expect(content?.['application/json'], `${op.id}: a JSON body is documented`).toBeDefined();
    this.validate(`${op.id} request`, content['application/json'].schema, body);
  }

  private validate(what: string, schema: unknown, value: unknown): void {
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) this.validators.set(key, (validate = this.ajv.compile(rebase(schema as object))));
    const ok = validate(value);
    expect(ok ? [] : validate.errors, `${what} fits its schema: ${JSON.stringify(value).slice(0, 400)}`).toEqual([]);
  }

  /** Follows a `$ref` to a component (responses, request bodies, headers). */
  private resolve(node: Json | undefined): Json | undefined {
    if (!node || typeof node['$ref'] !== 'string') return node;
    const [, kind, name] = /^#\/components\/(\w+)\/(.+)$/.exec(node['$ref'])!;
    return this.doc['components'][kind!][name!];
  }
}
