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
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var connection = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == connectionId, ct);
        var dirty = await db.DirtyCustomers.AsNoTracking().Where(d => d.ConnectionId == connectionId).OrderBy(d => d.MarkedAt).Take(Batch).ToListAsync(ct);
        if (dirty.Count == 0)
        {
            return 0;
        }

        var catalog = await StoredState.CatalogAsync(db, connectionId, ct);
        var now = clock.GetUtcNow();
        foreach (var mark in dirty)
        {
            await DeriveCustomerAsync(db, connection, catalog, mark.CustomerId, now, ct);
        }

        await db.SaveChangesAsync(ct);
        foreach (var mark in dirty)
        {
            // Only the mark we derived from: a newer stamp means the customer changed meanwhile and stays queued.
            await db.DirtyCustomers.Where(d => d.ConnectionId == connectionId && d.CustomerId == mark.CustomerId && d.Stamp == mark.Stamp)
                .ExecuteDeleteAsync(ct);
        }

        return dirty.Count;
    }

    private static async Task DeriveCustomerAsync(AppDbContext db, Connection connection, Catalog catalog, string customerId, DateTimeOffset now, CancellationToken ct)
    {
        var stored = await db.StripeObjects.AsNoTracking()
            .SingleOrDefaultAsync(o => o.ConnectionId == connection.Id && o.StripeId == customerId && o.Type == StripeObjectType.Customer, ct);
        var customer = stored is null ? await AbsentCustomerAsync(db, connection.Id, customerId, ct) : StateStore.Deserialize<CustomerRecord>(stored);
        if (customer is null)
        {
            return; // Nothing names the customer (any more).
        }

        var person = await PersonForAsync(db, connection, customer, now, ct);
        var customerIds = await db.PersonCustomers.Where(l => l.PersonId == person.Id).Select(l => l.CustomerId).ToListAsync(ct);
        var state = await StoredState.CustomersAsync(db, connection.Id, customerIds, person.Email, ct);
        var events = state.Events(catalog, now);
        if (stored is null)
        {
            // The stand-in gives the fields a customer id and a created date; it has no Customer Created event of its own
            // (its time is a guess), so it joins the records for fields only.
            state = state with { Person = state.Person with { Customers = [.. state.Person.Customers, customer] } };
        }

        await MetricEventStore.ReplaceDerivedAsync(db, connection, person.Id, customerIds, events, ct);
        await db.SaveChangesAsync(ct);
        // Events stored from webhooks before this customer had a person (and guest checkouts) join it now.
        await db.MetricEvents.Where(m => m.ConnectionId == connection.Id && m.PersonId == null && customerIds.Contains(m.CustomerId!))
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.PersonId, person.Id), ct);

        var lastActivity = await db.MetricEvents.Where(m => m.PersonId == person.Id).MaxAsync(m => (long?)m.Time, ct);
        person.LastActivity = lastActivity;
        person.Name = state.Person.Customers.OrderBy(c => c.Deleted).ThenByDescending(c => c.Created)
            .Select(c => c.Name).FirstOrDefault(n => !string.IsNullOrWhiteSpace(n));
        person.SearchText = string.Join(' ', [person.Email, person.Name, .. customerIds]).ToLowerInvariant();
        var fields = PersonFields.Compute(state.Person, catalog, person.EmailUnsubscribed,
            lastActivity is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t) : null, now, now);
        person.SetFields(JsonSerializer.Serialize(fields, Json));
        person.UpdatedAt = now.ToUnixTimeMilliseconds();
        await db.SaveChangesAsync(ct);
        // One customer at a time: a context tracking a whole batch's people and events makes every save slower.
        db.ChangeTracker.Clear();
    }

    /// <summary>
    /// A stand-in for a customer that objects name but that is not stored: Stripe lists no deleted customer, yet its
    /// invoices, charges and subscriptions stay, and SPEC §3 keeps its history. Without an email it is an unidentified
    /// person keyed by its id; if the customer itself arrives later (a webhook behind its invoice's), it replaces the
    /// stand-in and the person moves to its email as any customer whose email appears. Null when nothing names it.
    /// </summary>
    private static async Task<CustomerRecord?> AbsentCustomerAsync(AppDbContext db, Guid connectionId, string customerId, CancellationToken ct)
    {
        var first = await db.StripeObjects.AsNoTracking().Where(o => o.ConnectionId == connectionId && o.CustomerId == customerId)
            .OrderBy(o => o.Created).Select(o => new { o.Livemode, o.Created }).FirstOrDefaultAsync(ct);
        return first is null ? null
            : new CustomerRecord(customerId, first.Livemode, DateTimeOffset.FromUnixTimeMilliseconds(first.Created), Email: null, Name: null, Phone: null,
                Address: null, Description: null, Delinquent: null, Currency: null, DefaultPaymentMethodId: null, Deleted: true, Metadata: new Dictionary<string, string>());
    }

    /// <summary>
    /// The person a customer belongs to: by normalised email, else an unidentified person of its own. When an
    /// email appears for a customer that was unidentified, its person is merged into the email's person.
    /// </summary>
    private static async Task<Person> PersonForAsync(AppDbContext db, Connection connection, CustomerRecord customer, DateTimeOffset now, CancellationToken ct)
    {
        var email = Identity.NormaliseEmail(customer.Email);
        var key = email ?? "stripe:" + customer.Id;
        var person = db.People.Local.SingleOrDefault(p => p.Mode == connection.Mode && p.Key == key)
            ?? await db.People.Include(p => p.Amounts).SingleOrDefaultAsync(p => p.Mode == connection.Mode && p.Key == key, ct);
        if (person is null)
        {
            person = new Person
            {
                Id = Guid.NewGuid(), Mode = connection.Mode, Key = key, Email = email, Identified = email is not null,
                CreatedAt = now.ToUnixTimeMilliseconds(),
            };
            db.People.Add(person);
        }

        var link = db.PersonCustomers.Local.SingleOrDefault(l => l.ConnectionId == connection.Id && l.CustomerId == customer.Id)
            ?? await db.PersonCustomers.SingleOrDefaultAsync(l => l.ConnectionId == connection.Id && l.CustomerId == customer.Id, ct);
        if (link is null)
        {
            db.PersonCustomers.Add(new PersonCustomer { ConnectionId = connection.Id, CustomerId = customer.Id, PersonId = person.Id });
        }
        else if (link.PersonId != person.Id)
        {
            // The customer moved (an email appeared or changed): its events follow it, and a person left
            // without customers (the old unidentified one) goes.
            var previous = link.PersonId;
            link.PersonId = person.Id;
            await db.SaveChangesAsync(ct);
            await db.MetricEvents.Where(m => m.PersonId == previous && m.CustomerId == customer.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.PersonId, person.Id), ct);
            if (!await db.PersonCustomers.AnyAsync(l => l.PersonId == previous, ct))
            {
                await db.MetricEvents.Where(m => m.PersonId == previous).ExecuteUpdateAsync(s => s.SetProperty(m => m.PersonId, person.Id), ct);
                await db.People.Where(p => p.Id == previous && !p.Identified).ExecuteDeleteAsync(ct);
            }
        }

        await db.SaveChangesAsync(ct);
        return person;
    }
}
