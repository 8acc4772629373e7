/**
 * The typed client of the PEC renewal API: openapi-fetch over the types that
 * openapi-typescript generates from openapi/openapi.json (src/schema.d.ts).
 *
 * Every path, parameter, body and answer is checked by the compiler against the
 * contract; this file adds only what the contract can't: the bearer token, the
 * language of messages, and turning an error answer into a typed Problem.
 */
import createOpenApiClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];

/** An error answer (RFC 9457 problem+json). Its `code` is stable: branch on it, not on texts. */
export type Problem = Schemas["Problem"];
/**
 * The codes an error may carry. A plain `string` while the contract declares `code` as
 * one; the union of the documented codes as soon as it declares them as an enum.
 */
export type ProblemCode = Problem["code"];

export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** Where the API is served, e.g. `http://127.0.0.1:8000` (no trailing `/v1`). */
  baseUrl: string;
  /** The bearer token, or a function asked before every request (a token that refreshes). */
  token?: string | (() => string | undefined);
  /** Language of `title`, `detail` and messages: Italian by default. */
  language?: "it" | "en";
  /** A fetch of your own (tests, a proxy); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const client = createOpenApiClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  if (options.token !== undefined) {
    client.use(bearerToken(options.token));
  }
  if (options.language !== undefined) {
    client.use(acceptLanguage(options.language));
  }
  return client;
}

/** Sends `Authorization: Bearer …` on every request that has a token to send. */
export function bearerToken(token: string | (() => string | undefined)): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === "function" ? token() : token;
      if (value !== undefined && value !== "") {
        request.headers.set("Authorization", `Bearer ${value}`);
      }
      return request;
    },
  };
}

export function acceptLanguage(language: "it" | "en"): Middleware {
  return {
    onRequest({ request }) {
      if (!request.headers.has("Accept-Language")) {
        request.headers.set("Accept-Language", language);
      }
      return request;
    },
  };
}

/**
 * The Problem in an error answer, typed: `switch (problemOf(error, response).code)`.
 *
 * openapi-fetch already parsed the body; what it typed it as depends on the contract
 * (an error answer that declares no schema makes `error` `unknown`). This checks the
 * RFC 9457 shape at run time, so a body that is not a problem (a proxy's HTML page)
 * throws UnexpectedAnswer instead of being trusted.
 */
export function problemOf(error: unknown, response: Response): Problem {
  if (isProblem(error)) {
    return error;
  }
  throw new UnexpectedAnswer(response.status, error);
}

/**
 * The RFC 9457 fields every error answer of this API carries. The one cast of this
 * client lives here: the guard vouches that `code` is a ProblemCode. While the contract
 * types `code` as a string that is exact; once it is an enum, a code this client was not
 * generated with (a newer server) still passes, which is why a `switch` on it keeps a
 * `default:` branch.
 */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate["code"] === "string" &&
    typeof candidate["status"] === "number" &&
    typeof candidate["title"] === "string" &&
    typeof candidate["detail"] === "string" &&
    typeof candidate["type"] === "string"
  );
}

/** An answer that is neither the success the contract promises nor a Problem. */
export class UnexpectedAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    super(`HTTP ${status}: ${(text ?? "").slice(0, 500)}`);
    this.name = "UnexpectedAnswer";
  }
}
