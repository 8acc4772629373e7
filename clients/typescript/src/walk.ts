/**
 * The README's sandbox walk as a typed program: holder on file, a blocked downgrade
 * quote, its one-tap fix, the order (holder on file, archive acknowledged), refusals
 * handled through the typed `error.code`, the sandbox payment, the renewed mailbox.
 *
 *   CUSTOMER_TOKEN=… npx tsx src/walk.ts [API_URL]     (default http://127.0.0.1:8000)
 *
 * It needs a fresh sandbox (`make run` on a new database): it renews mbx-premium of the
 * demo customer acc-rossi once. Exits 1, saying why, on any answer the walk didn't expect.
 */
import { randomUUID } from "node:crypto";

import { createApiClient, problemOf, type Problem, type Schemas } from "./client.js";

type Mailbox = Schemas["MailboxOut"];
type Quote = Schemas["QuoteOut"];
type Order = Schemas["OrderOut"];

const MAILBOX = "mbx-premium";

class WalkFailed extends Error {}

function fail(why: string): never {
  throw new WalkFailed(why);
}

/** The data of a successful answer; any error answer ends the walk with its code. */
function expectData<T>(
  result: { data?: T; error?: unknown; response: Response },
  what: string,
  status: number,
): T {
  const { data, error, response } = result;
  if (error !== undefined || data === undefined) {
    const problem = problemOf(error, response);
    fail(`${what}: HTTP ${response.status} ${problem.code}: ${problem.detail}`);
  }
  if (response.status !== status) {
    fail(`${what}: HTTP ${response.status}, expected ${status}`);
  }
  return data;
}

/** The Problem of an answer that had to be an error. */
function expectProblem(
  result: { error?: unknown; response: Response },
  what: string,
): Problem {
  if (result.response.ok) {
    fail(`${what}: HTTP ${result.response.status}, expected an error`);
  }
  return problemOf(result.error, result.response);
}

/**
 * What a checkout page does when an order is refused: the stable `code` decides, never
 * the (translated) texts. Once the contract lists the codes as an enum, a misspelt case
 * here fails to compile.
 */
type Next = "retry_with_idempotency_key" | "show_existing_order" | "quote_again" | "top_up";

function nextStepAfterRefusal(problem: Problem): Next {
  switch (problem.code) {
    case "idempotency_key_required":
      return "retry_with_idempotency_key";
    case "quote_already_ordered":
    case "pending_order_exists":
      return "show_existing_order";
    case "quote_expired":
    case "quote_blocked":
      return "quote_again";
    case "insufficient_credit":
      return "top_up";
    default:
      fail(`order refused with an unexpected ${problem.status} ${problem.code}: ${problem.detail}`);
  }
}

function show(label: string, value: unknown): void {
  console.log(`${label.padEnd(22)} ${typeof value === "string" ? value : JSON.stringify(value)}`);
}

async function walk(baseUrl: string, token: string): Promise<void> {
  const api = createApiClient({ baseUrl, token, language: "en" });
  const run = randomUUID();
  const mailboxPath = { params: { path: { mailbox_id: MAILBOX } } } as const;

  // 1. The mailbox, with the holder on file the customer confirms or modifies.
  const before: Mailbox = expectData(
    await api.GET("/v1/mailboxes/{mailbox_id}", mailboxPath),
    `GET ${MAILBOX}`,
    200,
  );
  if (before.plan !== "PREMIUM") {
    fail(`${MAILBOX} is ${before.plan}, not PREMIUM: the walk needs a fresh sandbox`);
  }
  if (before.holder_on_file === null) {
    fail(`${MAILBOX} has no holder on file: the order would need one`);
  }
  show("mailbox", `${before.id} ${before.plan}, expires ${before.expires_on}`);
  show("holder on file", `${before.holder_on_file.holder.name} (${before.holder_on_file.source})`);

  // 2. Renew it as STANDARD: blocked, and the quote says the smallest fix.
  const item = { mailbox_id: MAILBOX, plan: "STANDARD" };
  const blocked: Quote = expectData(
    await api.POST("/v1/quotes", {
      params: { header: { "Idempotency-Key": `walk-${run}-blocked` } },
      body: { years: 1, items: [item] },
    }),
    "POST /v1/quotes (STANDARD)",
    201,
  );
  const space = blocked.items[0]?.issues.find((i) => i.code === "insufficient_mailbox_space");
  const extraGb = space?.smallest_extra_mailbox_gb;
  if (blocked.status !== "blocked" || extraGb === undefined || extraGb === null) {
    fail(`the downgrade quote is ${blocked.status} without insufficient_mailbox_space`);
  }
  show("blocked quote", `insufficient_mailbox_space: add ${extraGb} GB`);

  // 3. The one-tap fix.
  const quote: Quote = expectData(
    await api.POST("/v1/quotes", {
      body: { years: 1, items: [{ ...item, extra_mailbox_gb: extraGb }] },
    }),
    "POST /v1/quotes (fixed)",
    201,
  );
  const quoted = quote.items[0];
  if (quote.status !== "ok" || quoted === undefined) {
    fail(`the fixed quote is ${quote.status}: ${JSON.stringify(quote.items)}`);
  }
  show("quote", `${quote.id} ok, total ${quote.total.amount} ${quote.total.currency}`);
  show("warnings", quoted.warnings.map((w) => w.code));

  // 4. The order: holder on file (none sent), archive deletion acknowledged.
  const orderBody = {
    quote_id: quote.id,
    payment_method: "bank_transfer",
    acknowledge_archive_deletion: quote.requires_archive_acknowledgement,
    consents: { terms: true, unfair_terms: true, privacy: true },
  } as const;
  const withoutKey = expectProblem(
    // @ts-expect-error The contract requires the key: left out on purpose, to show the 428.
    await api.POST("/v1/orders", { body: orderBody }),
    "POST /v1/orders without Idempotency-Key",
  );
  if (nextStepAfterRefusal(withoutKey) !== "retry_with_idempotency_key") {
    fail(`an order without Idempotency-Key was refused with ${withoutKey.code}`);
  }
  show("without a key", `${withoutKey.status} ${withoutKey.code}: retried with one`);

  const key = `walk-${run}-order`;
  const placed = await api.POST("/v1/orders", {
    params: { header: { "Idempotency-Key": key } },
    body: orderBody,
  });
  const order: Order = expectData(placed, "POST /v1/orders", 201);
  if (order.status !== "AWAITING_PAYMENT") {
    fail(`the new order is ${order.status}, expected AWAITING_PAYMENT`);
  }
  show("order", `${order.number} ${order.status} for ${order.holder_name}`);
  show("pay to", order.payment_instructions);

  const replay = await api.POST("/v1/orders", {
    params: { header: { "Idempotency-Key": key } },
    body: orderBody,
  });
  const replayed: Order = expectData(replay, "POST /v1/orders (same key again)", 201);
  if (replayed.id !== order.id || replay.response.headers.get("Idempotent-Replayed") !== "true") {
    fail("the same Idempotency-Key did not replay the first order");
  }
  show("same key again", `replayed ${replayed.number}`);

  const second = expectProblem(
    await api.POST("/v1/orders", {
      params: { header: { "Idempotency-Key": `walk-${run}-second` } },
      body: orderBody,
    }),
    "a second order for the same quote",
  );
  if (second.code !== "quote_already_ordered") {
    fail(`a second order for the same quote was refused with ${second.code}`);
  }
  show("second order", `${second.status} ${second.code}: ${nextStepAfterRefusal(second)}`);

  // 5. Pay it in the sandbox (a correctly signed webhook).
  const paid: Order = expectData(
    await api.POST("/v1/sandbox/orders/{order_id}/pay", {
      params: { path: { order_id: order.id } },
    }),
    "POST /v1/sandbox/orders/{id}/pay",
    200,
  );
  if (paid.status !== "FULFILLED") {
    fail(`the paid order is ${paid.status}, expected FULFILLED`);
  }
  show("paid", `${paid.number} ${paid.status}`);

  // 6. The renewed mailbox: expiry one year later; the downgrade (STANDARD, +1 GB, archive
  // deleted) waits for the current expiry, so it is the mailbox's scheduled change.
  const after: Mailbox = expectData(
    await api.GET("/v1/mailboxes/{mailbox_id}", mailboxPath),
    `GET ${MAILBOX} after payment`,
    200,
  );
  const yearLater = Number(before.expires_on.slice(0, 4)) + 1;
  const scheduled = after.scheduled_change;
  if (
    after.plan !== before.plan ||
    after.used_archive_mb !== before.used_archive_mb ||
    scheduled === null ||
    scheduled.plan !== "STANDARD" ||
    scheduled.extra_mailbox_gb !== extraGb ||
    !scheduled.deletes_archive ||
    scheduled.effective_on !== quoted.effective_on ||
    after.expires_on !== quoted.new_expiry ||
    !after.expires_on.startsWith(`${yearLater}-`)
  ) {
    fail(`the renewed mailbox is not as quoted: ${JSON.stringify(after)}`);
  }
  show(
    "renewed",
    `expires ${after.expires_on}; ${scheduled.plan} +${scheduled.extra_mailbox_gb} GB ` +
      `from ${scheduled.effective_on}`,
  );
}

async function main(): Promise<number> {
  const baseUrl = process.argv[2] ?? process.env["API_URL"] ?? "http://127.0.0.1:8000";
  const token = process.env["CUSTOMER_TOKEN"];
  if (token === undefined || token === "") {
    console.error("FAIL: set CUSTOMER_TOKEN (`make run` prints it)");
    return 2;
  }
  try {
    await walk(baseUrl, token);
  } catch (error) {
    console.error(`FAIL: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  console.log("walk: OK");
  return 0;
}

process.exitCode = await main();
