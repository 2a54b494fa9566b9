// Benchmark scenario 5's peer: @supabase/stripe-sync-engine's own backfill, pointed at the StripeSync simulator.
//
//   node backfill.mjs <simulator base URL> <API key> <PostgreSQL URL> [--retry-429]
//
// Runs the engine's migrations into the (fresh) database, builds the engine as its README does, swaps its Stripe
// client for one aimed at the simulator (the engine builds its client internally, from the key alone), times
// syncBackfill({ object: 'all' }) and prints one JSON line: elapsed ms, what the engine reports per type, the rows
// in its tables, the requests its Stripe client made per endpoint and status, and the error that stopped it, if any.
//
// --retry-429 is not the engine: stripe-node never retries a 429 (only 409, 5xx and `Stripe-Should-Retry: true`),
// so under Stripe's limits the engine stops at its first 429. With the flag, its client's HTTP layer waits and asks
// again instead (stripe-node's own retry delays: 0.5 s doubling to 5 s with jitter, here up to 10 times), to show how
// long the engine would take if it did.
import { createRequire } from 'node:module';
import Stripe from 'stripe';

// The package's CommonJS build: its ES module build finds its migrations through __dirname, which ES modules lack,
// so there runMigrations fails and, without a logger, says nothing (0.48.5).
const { StripeSync, runMigrations } = createRequire(import.meta.url)('@supabase/stripe-sync-engine');
// The engine logs through pino's interface when given a logger; only its errors are wanted, on stderr.
const logger = { info() {}, debug() {}, warn() {}, error: (...args) => console.error(...args) };

const [baseUrl, key, databaseUrl, ...flags] = process.argv.slice(2);
if (!baseUrl || !key || !databaseUrl) {
  console.error('usage: node backfill.mjs <simulator base URL> <API key> <PostgreSQL URL> [--retry-429]');
  process.exit(2);
}

const retry429 = flags.includes('--retry-429');
const schema = 'stripe';
await runMigrations({ databaseUrl, schema, logger });

const sync = new StripeSync({
  poolConfig: { connectionString: databaseUrl },
  schema,
  stripeSecretKey: key,
  stripeWebhookSecret: 'whsec_unused_by_a_backfill',
  // Fetch the rest of any embedded list Stripe cuts at 10 (invoice lines, subscription items, a charge's refunds),
  // so its tables hold what StripeSync's do; on this dataset no embedded list is cut, so it costs no request.
  autoExpandLists: true,
  // Every type is walked anyway; this would only look up (and fetch one by one) objects referenced before their own type is walked.
  backfillRelatedEntities: false,
  logger,
});

const base = new URL(baseUrl);
const options = { host: base.hostname, port: Number(base.port), protocol: base.protocol.replace(':', '') };
if (retry429) {
  options.httpClient = retrying(Stripe.createNodeHttpClient());
}

sync.stripe = new Stripe(key, options);

// What the engine's client asked for, per endpoint (ids replaced by {id}) and status.
const requests = {};
let lastPath = null;
sync.stripe.on('response', (event) => {
  // An id is a prefix, an underscore and a part with a digit or a capital (cs_HgNtUCAhXAAdQJ), as the simulator
  // counts endpoints for its limits; resource names (line_items) are lower case.
  const endpoint = event.path.split('?')[0].split('/').map((s) => (/^[a-z]+_.*[A-Z0-9]/.test(s) ? '{id}' : s)).join('/');
  lastPath = endpoint;
  requests[endpoint] ??= {};
  requests[endpoint][event.status] = (requests[endpoint][event.status] ?? 0) + 1;
});

const started = performance.now();
let reported = null;
let error = null;
try {
  reported = await sync.syncBackfill({ object: 'all' });
} catch (e) {
  error = { message: e.message, type: e.type ?? null, status: e.statusCode ?? null, during: lastPath };
}
const elapsedMs = Math.round(performance.now() - started);

const { rows } = await sync.postgresClient.query(
  `select table_name as table from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE'`, [schema]);
const tables = {};
for (const { table } of rows.filter((r) => r.table !== 'migrations')) {
  const counted = await sync.postgresClient.query(`select count(*)::int as n from "${schema}"."${table}"`);
  if (counted.rows[0].n > 0) tables[table] = counted.rows[0].n;
}

const synced = {};
for (const [type, value] of Object.entries(reported ?? {})) {
  if (value) synced[type] = value.synced;
}

console.log(JSON.stringify({ elapsedMs, synced, tables, requests, error, retry429 }));
await sync.close();

/** The engine's own HTTP client, but a 429 is waited out and asked again (see --retry-429 above). */
function retrying(inner) {
  return {
    getClientName: () => inner.getClientName(),
    makeRequest: async (...args) => {
      for (let attempt = 0; ; attempt++) {
        const response = await inner.makeRequest(...args);
        if (response.getStatusCode() !== 429 || attempt === 10) return response;
        await response.toJSON();
        await new Promise((resolve) => setTimeout(resolve, Math.max(500, Math.min(5000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2))));
      }
    },
  };
}
