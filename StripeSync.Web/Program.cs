using StripeSync.Web.Setup;

// One executable, three roles: `--role all` (default) serves the UI and runs jobs; `web` only serves;
// `worker` only runs jobs against the shared PostgreSQL database.
var builder = WebApplication.CreateBuilder(args);
builder.AddStripeSync();

var app = builder.Build();
await app.PrepareAsync();
app.MapStripeSync();

await app.RunAsync();
