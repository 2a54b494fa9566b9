using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.Persistence;
using StripeSync.Core.Processing;
using StripeSync.Core.StripeApi;

namespace StripeSync.Core.People;

/// <summary>
/// Rebuilds the people whose Stripe customers changed: identity (email → person, several customers per
/// person, unidentified customers merged when an email appears), every field token, and the metric events
/// the stored state shows. Idempotent: running it twice stores the same people and events once.
/// </summary>
public sealed class DeriveJob(IDbContextFactory<AppDbContext> dbFactory, ISyncJobs jobs, TimeProvider clock, ILogger<DeriveJob> logger)
{
    private const int Batch = 200;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task RunAsync(Guid connectionId, CancellationToken ct)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // During an import people are derived once, at its end, from complete data.
            if (await db.BackfillCursors.AnyAsync(c => c.ConnectionId == connectionId && !c.Done, ct))
            {
                return;
            }
        }

        // Until no mark is left: marks re-stamped while their customer was being derived are taken again.
        var total = 0;
        var started = clock.GetTimestamp();
        int done;
        do
        {
            done = await RunBatchAsync(connectionId, ct);
            total += done;
            if (done > 0 && clock.GetElapsedTime(started) > ISyncJobs.RunBudget)
            {
                jobs.Derive(connectionId);
                logger.LogInformation("Derived {Count} customers of connection {ConnectionId}; continuing in a new run", total, connectionId);
                return;
            }
        }
        while (done > 0);

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // An import just added thousands of people: the segment queries' plans need statistics that know it.
            await DatabaseSetup.RefreshStatisticsAsync(db, ct);
            var connection = await db.Connections.SingleAsync(c => c.Id == connectionId, ct);
            if (connection.State is ConnectionState.Importing or ConnectionState.Connected)
            {
                connection.State = ConnectionState.Synced;
                await db.SaveChangesAsync(ct);
                // The import just finished: check it against Stripe's own count right away, not at the next hourly run.
                jobs.Reconcile(connectionId);
            }
        }

        logger.LogInformation("Derived {Count} customers of connection {ConnectionId}", total, connectionId);
    }

    private async Task<int> RunBatchAsync(Guid connectionId, CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == connectionId, ct);
        var dirty = await db.DirtyCustomers.AsNoTracking().Where(d => d.ConnectionId == connectionId).OrderBy(d => d.MarkedAt).Take(Batch).ToListAsync(ct);
        if (dirty.Count == 0)
        {
            return 0;
        }

        var catalog = await StoredState.CatalogAsync(db, connectionId, ct);
        var ids = dirty.Select(d => d.CustomerId).ToList();
        var now = clock.GetUtcNow();
        // Read and compute before the write transaction: on SQLite it holds the whole file's write lock, which the webhook
        // endpoint's inbox writer waits for. Safe without it: a stored object that changes after the marks were read
        // re-stamps its customer's mark, which the delete below then leaves queued; people and links change only here
        // (one derive at a time).
        var batch = await ReadAsync(db, connection, catalog, ids, now, ct);
        var read = clock.GetElapsedTime(started);
        // One transaction for the writes, not a commit per customer: the batch's people, links, events and marks change together.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Timed from its start (on SQLite, once its turn at the write lock came): how long it holds the lock.
        var writing = clock.GetTimestamp();
        if (!await db.Connections.AnyAsync(c => c.Id == connectionId, ct))
        {
            // Removed while the batch was read: its people and events went with it, so none are written back.
            return 0;
        }

        await WriteAsync(db, connection, catalog, batch, now, ct);
        // Only the marks we derived from: a newer stamp means the customer changed meanwhile and stays queued.
        var stamps = dirty.Select(d => d.Stamp).ToList();
        await db.DirtyCustomers.Where(d => d.ConnectionId == connectionId && ids.Contains(d.CustomerId) && stamps.Contains(d.Stamp)).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogDebug("Derived a batch of {Count} customers: read {Read:F1} ms, write transaction {Write:F1} ms", dirty.Count, read.TotalMilliseconds,
            clock.GetElapsedTime(writing).TotalMilliseconds);
        return dirty.Count;
    }

    /// <summary>What a batch derives to, computed before the write transaction.</summary>
    private sealed record Derived(
        List<Person> People,
        List<IReadOnlyCollection<string>> CustomerIdsOf,
        List<CustomerState> States,
        List<(Guid PersonId, IReadOnlyCollection<string> CustomerIds, IReadOnlyList<MetricEvent> Events)> Replacements,
        List<(string CustomerId, Guid From, Guid To)> Moved);

    /// <summary>
    /// Reads a batch of customers' objects, people and links in a few set-wise queries and computes their people (added or
    /// changed in <paramref name="db"/>, not saved) and every metric event their stored state shows.
    /// </summary>
    private static async Task<Derived> ReadAsync(AppDbContext db, Connection connection, Catalog catalog, List<string> customerIds, DateTimeOffset now, CancellationToken ct)
    {
        var owned = await StoredState.OwnedAsync(db, connection.Id, customerIds, ct);
        var customers = new List<(CustomerRecord Customer, bool Absent)>();
        foreach (var id in customerIds)
        {
            var objects = owned.GetValueOrDefault(id) ?? [];
            if (objects.Find(o => o.Type == StripeObjectType.Customer && o.StripeId == id) is { } stored)
            {
                customers.Add((StateStore.Deserialize<CustomerRecord>(stored), false));
            }
            else if (objects.MinBy(o => o.Created) is { } first)
            {
                customers.Add((StandIn(id, first), true));
            }

            // Else nothing names the customer (any more).
        }

        var (personOf, moved) = await PeopleForAsync(db, connection, [.. customers.Select(c => c.Customer)], now, ct);
        var people = personOf.Values.Distinct().ToList();
        var personIds = people.Select(p => p.Id).ToList();
        // Each person's customers: its stored links, with this batch's customers where they now belong (not saved yet).
        var storedLinks = await db.PersonCustomers.AsNoTracking().Where(l => personIds.Contains(l.PersonId)).Select(l => new { l.PersonId, l.CustomerId }).ToListAsync(ct);
        var links = storedLinks.Where(l => !personOf.ContainsKey(l.CustomerId)).Select(l => (l.PersonId, l.CustomerId))
            .Concat(personOf.Select(p => (PersonId: p.Value.Id, CustomerId: p.Key)))
            .ToLookup(l => l.PersonId, l => l.CustomerId);
        var customerIdsOf = people.Select(p => (IReadOnlyCollection<string>)[.. links[p.Id].Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]).ToList();
        var states = await StoredState.CustomersAsync(db, connection.Id, [.. people.Select((p, i) => (customerIdsOf[i], p.Email))], owned, ct);
        var standIns = customers.Where(c => c.Absent).ToLookup(c => personOf[c.Customer.Id], c => c.Customer);

        var replacements = new List<(Guid, IReadOnlyCollection<string>, IReadOnlyList<MetricEvent>)>(people.Count);
        for (var i = 0; i < people.Count; i++)
        {
            replacements.Add((people[i].Id, customerIdsOf[i], states[i].Events(catalog, now)));
            // A stand-in gives the fields a customer id and a created date; it has no Customer Created event of its own
            // (its time is a guess), so it joins the records for fields only.
            if (standIns[people[i]].Any())
            {
                states[i] = states[i] with { Person = states[i].Person with { Customers = [.. states[i].Person.Customers, .. standIns[people[i]]] } };
            }
        }

        return new Derived(people, customerIdsOf, states, replacements, moved);
    }

    /// <summary>
    /// Writes a derived batch in the caller's transaction: people and links, the moved customers' events, the metric events
    /// (replaced), then each person's fields from its events' last activity; three saves.
    /// </summary>
    private static async Task WriteAsync(AppDbContext db, Connection connection, Catalog catalog, Derived batch, DateTimeOffset now, CancellationToken ct)
    {
        await db.SaveChangesAsync(ct);
        foreach (var (customerId, previous, to) in batch.Moved)
        {
            // The customer moved (an email appeared or changed): its events follow it, and a person left
            // without customers (the old unidentified one) goes.
            await db.MetricEvents.Where(m => m.PersonId == previous && m.CustomerId == customerId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.PersonId, to), ct);
            if (!await db.PersonCustomers.AnyAsync(l => l.PersonId == previous, ct))
            {
                await db.MetricEvents.Where(m => m.PersonId == previous).ExecuteUpdateAsync(s => s.SetProperty(m => m.PersonId, to), ct);
                await db.People.Where(p => p.Id == previous && !p.Identified).ExecuteDeleteAsync(ct);
            }
        }

        await MetricEventStore.ReplaceDerivedAsync(db, connection, batch.Replacements, ct);
        await db.SaveChangesAsync(ct);
        // Events stored from webhooks before their customer had a person (and guest checkouts) join its person now.
        foreach (var ids in batch.CustomerIdsOf.SelectMany(c => c).Distinct(StringComparer.Ordinal).Chunk(2000))
        {
            await db.MetricEvents.Where(m => m.ConnectionId == connection.Id && m.PersonId == null && ids.Contains(m.CustomerId!))
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.PersonId, m => db.PersonCustomers
                    .Where(l => l.ConnectionId == m.ConnectionId && l.CustomerId == m.CustomerId).Select(l => (Guid?)l.PersonId).FirstOrDefault()), ct);
        }

        var ofPeople = batch.People.Select(p => (Guid?)p.Id).ToList();
        var lastActivity = await db.MetricEvents.Where(m => ofPeople.Contains(m.PersonId))
            .GroupBy(m => m.PersonId).Select(g => new { g.Key, Time = g.Max(m => m.Time) }).ToDictionaryAsync(g => g.Key!.Value, g => g.Time, ct);
        for (var i = 0; i < batch.People.Count; i++)
        {
            var person = batch.People[i];
            var state = batch.States[i];
            long? last = lastActivity.TryGetValue(person.Id, out var t) ? t : null;
            person.LastActivity = last;
            person.Name = state.Person.Customers.OrderBy(c => c.Deleted).ThenByDescending(c => c.Created)
                .Select(c => c.Name).FirstOrDefault(n => !string.IsNullOrWhiteSpace(n));
            person.SearchText = string.Join(' ', [person.Email, person.Name, .. batch.CustomerIdsOf[i]]).ToLowerInvariant();
            var fields = PersonFields.Compute(state.Person, catalog, person.EmailUnsubscribed,
                last is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null, now, now);
            person.SetFields(JsonSerializer.Serialize(fields, Json));
            person.UpdatedAt = now.ToUnixTimeMilliseconds();
        }

        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// A stand-in for a customer that objects name but that is not stored: Stripe lists no deleted customer, yet its
    /// invoices, charges and subscriptions stay, and SPEC §3 keeps its history. Without an email it is an unidentified
    /// person keyed by its id; if the customer itself arrives later (a webhook behind its invoice's), it replaces the
    /// stand-in and the person moves to its email as any customer whose email appears. Made from its first object.
    /// </summary>
    private static CustomerRecord StandIn(string customerId, StoredObject first) =>
        new(customerId, first.Livemode, DateTimeOffset.FromUnixTimeMilliseconds(first.Created), Email: null, Name: null, Phone: null,
            Address: null, Description: null, Delinquent: null, Currency: null, DefaultPaymentMethodId: null, Deleted: true, Metadata: new Dictionary<string, string>());

    /// <summary>
    /// The person each customer belongs to: by normalised email, else an unidentified person of its own; customers of one
    /// email share one. When an email appears for a customer that was unidentified, its person is merged into the email's
    /// person. People and links are read in one query each; new and changed ones are left in <paramref name="db"/> for the
    /// caller's save, with the customers that moved from one person to another.
    /// </summary>
    private static async Task<(Dictionary<string, Person> PersonOf, List<(string CustomerId, Guid From, Guid To)> Moved)> PeopleForAsync(AppDbContext db, Connection connection, List<CustomerRecord> customers, DateTimeOffset now,
        CancellationToken ct)
    {
        var keys = customers.Select(c => Identity.NormaliseEmail(c.Email) ?? "stripe:" + c.Id).Distinct(StringComparer.Ordinal).ToList();
        var people = await db.People.Include(p => p.Amounts).Where(p => p.Mode == connection.Mode && keys.Contains(p.Key)).ToDictionaryAsync(p => p.Key, StringComparer.Ordinal, ct);
        var ids = customers.Select(c => c.Id).ToList();
        var links = await db.PersonCustomers.Where(l => l.ConnectionId == connection.Id && ids.Contains(l.CustomerId)).ToDictionaryAsync(l => l.CustomerId, StringComparer.Ordinal, ct);
        var personOf = new Dictionary<string, Person>(StringComparer.Ordinal);
        var moved = new List<(string CustomerId, Guid From, Guid To)>();
        foreach (var customer in customers)
        {
            var email = Identity.NormaliseEmail(customer.Email);
            var key = email ?? "stripe:" + customer.Id;
            if (!people.TryGetValue(key, out var person))
            {
                person = new Person
                {
                    Id = Guid.NewGuid(), Mode = connection.Mode, Key = key, Email = email, Identified = email is not null,
                    CreatedAt = now.ToUnixTimeMilliseconds(),
                };
                db.People.Add(person);
                people[key] = person;
            }

            personOf[customer.Id] = person;
            if (!links.TryGetValue(customer.Id, out var link))
            {
                db.PersonCustomers.Add(new PersonCustomer { ConnectionId = connection.Id, CustomerId = customer.Id, PersonId = person.Id });
            }
            else if (link.PersonId != person.Id)
            {
                moved.Add((customer.Id, link.PersonId, person.Id));
                link.PersonId = person.Id;
            }
        }

        return (personOf, moved);
    }
}
