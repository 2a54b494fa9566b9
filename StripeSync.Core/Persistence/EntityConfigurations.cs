using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using StripeSync.Core.Access;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.People;
using StripeSync.Core.Segments;

namespace StripeSync.Core.Persistence;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> key)
    {
        key.Property(k => k.Name).HasMaxLength(100);
        key.Property(k => k.Prefix).HasMaxLength(16);
        key.Property(k => k.Hash).HasMaxLength(64);
        key.HasIndex(k => k.Hash).IsUnique();
        key.HasOne(k => k.User).WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ConnectionConfiguration : IEntityTypeConfiguration<Connection>
{
    public void Configure(EntityTypeBuilder<Connection> connection)
    {
        connection.ToTable("connections");
        connection.Property(c => c.KeyHint).HasMaxLength(64);
        connection.Property(c => c.AccountId).HasMaxLength(64);
        connection.Property(c => c.WebhookEndpointId).HasMaxLength(64);
        connection.Property(c => c.LastError).HasMaxLength(2000);
        connection.Property(c => c.ApiBase).HasMaxLength(200);
    }
}

internal sealed class FieldMappingConfiguration : IEntityTypeConfiguration<FieldMapping>
{
    public void Configure(EntityTypeBuilder<FieldMapping> mapping)
    {
        mapping.ToTable("field_mappings");
        mapping.HasKey(m => m.Token);
        mapping.Property(m => m.Token).HasMaxLength(64);
        mapping.Property(m => m.Target).HasMaxLength(64);
    }
}

internal sealed class StoredObjectConfiguration : IEntityTypeConfiguration<StoredObject>
{
    public void Configure(EntityTypeBuilder<StoredObject> stored)
    {
        stored.ToTable("stripe_objects");
        stored.HasKey(o => new { o.ConnectionId, o.StripeId });
        stored.Property(o => o.StripeId).HasMaxLength(255);
        stored.Property(o => o.CustomerId).HasMaxLength(255);
        stored.Property(o => o.ParentId).HasMaxLength(255);
        stored.HasIndex(o => new { o.ConnectionId, o.Type, o.Created });
        stored.HasIndex(o => new { o.ConnectionId, o.CustomerId });
        stored.HasIndex(o => new { o.ConnectionId, o.ParentId });
    }
}

internal sealed class BackfillCursorConfiguration : IEntityTypeConfiguration<BackfillCursor>
{
    public void Configure(EntityTypeBuilder<BackfillCursor> cursor)
    {
        cursor.ToTable("backfill_cursors");
        cursor.HasKey(c => new { c.ConnectionId, c.Type });
    }
}

internal sealed class BackfillSliceConfiguration : IEntityTypeConfiguration<BackfillSlice>
{
    public void Configure(EntityTypeBuilder<BackfillSlice> slice)
    {
        slice.ToTable("backfill_slices");
        slice.HasKey(s => new { s.ConnectionId, s.Type, s.Slice });
        slice.Property(s => s.Cursor).HasMaxLength(255);
    }
}

internal sealed class InboxEventConfiguration : IEntityTypeConfiguration<InboxEvent>
{
    public void Configure(EntityTypeBuilder<InboxEvent> inbox)
    {
        inbox.ToTable("inbox_events");
        inbox.Property(e => e.EventId).HasMaxLength(255);
        inbox.Property(e => e.Type).HasMaxLength(128);
        inbox.Property(e => e.Error).HasMaxLength(2000);
        inbox.HasIndex(e => new { e.ConnectionId, e.EventId }).IsUnique();
        inbox.HasIndex(e => new { e.ConnectionId, e.ProcessedAt, e.Created });
    }
}

internal sealed class DirtyCustomerConfiguration : IEntityTypeConfiguration<DirtyCustomer>
{
    public void Configure(EntityTypeBuilder<DirtyCustomer> dirty)
    {
        dirty.ToTable("dirty_customers");
        dirty.HasKey(d => new { d.ConnectionId, d.CustomerId });
        dirty.Property(d => d.CustomerId).HasMaxLength(255);
    }
}

internal sealed class PersonConfiguration : IEntityTypeConfiguration<Person>
{
    public void Configure(EntityTypeBuilder<Person> person)
    {
        person.ToTable("people");
        person.Property(p => p.Key).HasMaxLength(320);
        person.Property(p => p.Email).HasMaxLength(320);
        person.Property(p => p.Name).HasMaxLength(512);
        person.Property(p => p.SearchText).HasMaxLength(2048);
        person.HasIndex(p => new { p.Mode, p.Key }).IsUnique();
        person.HasIndex(p => new { p.Mode, p.Email });
        // Segments filter on these (docs/decisions/0007): the predefined ones are index scans.
        person.Property(p => p.StripeCustomerId).HasMaxLength(255);
        person.Property(p => p.SubscriptionStatus).HasMaxLength(32);
        // Slipping Customers and Slipping Trials read last activity first, then the subscription counts: all in the index,
        // so their counts read no person's row (BENCHMARKS.md §4). Expired Trials likewise: trial end, then the status.
        person.HasIndex(p => new { p.Mode, p.LastActivity, p.ActiveSubscriptions, p.PastDueSubscriptions, p.TrialingSubscriptions });
        person.HasIndex(p => new { p.Mode, p.TrialEnd, p.SubscriptionStatus });
        person.HasIndex(p => new { p.Mode, p.SubscriptionStatus });
        person.HasIndex(p => new { p.Mode, p.ActiveSubscriptions });
        person.HasIndex(p => new { p.Mode, p.TrialingSubscriptions });
        person.HasIndex(p => new { p.Mode, p.PastDueSubscriptions });
        person.HasIndex(p => new { p.Mode, p.LastOrderAt });
        // A custom segment on country reads the matching people from here, not every candidate's JSON (docs/decisions/0015).
        person.HasIndex(p => new { p.Mode, p.Country });
        // "Syncing with Stripe" counts everyone with a customer id: an index-only count instead of reading every row.
        person.HasIndex(p => new { p.Mode, p.StripeCustomerId });
        // Money conditions select people by id from person_amounts (`Id IN (…)`) and check their mode: with both in one
        // index that is an index-only probe per person, where the primary key alone fetched every row (High value at
        // 1M people: 410 → 270 ms on SQLite, a heap fetch per person on PostgreSQL).
        person.HasIndex(p => new { p.Mode, p.Id });
        person.HasMany(p => p.Amounts).WithOne().HasForeignKey(a => a.PersonId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PersonAmountConfiguration : IEntityTypeConfiguration<PersonAmount>
{
    public void Configure(EntityTypeBuilder<PersonAmount> amount)
    {
        amount.ToTable("person_amounts");
        amount.HasKey(a => new { a.PersonId, a.Token, a.Currency });
        amount.Property(a => a.Token).HasMaxLength(64);
        amount.Property(a => a.Currency).HasMaxLength(3);
        // Money conditions (High value): the people above or below an amount come from this index alone (BENCHMARKS.md §4).
        amount.HasIndex(a => new { a.Mode, a.Token, a.Currency, a.Amount, a.PersonId });
    }
}

internal sealed class PersonCustomerConfiguration : IEntityTypeConfiguration<PersonCustomer>
{
    public void Configure(EntityTypeBuilder<PersonCustomer> link)
    {
        link.ToTable("person_customers");
        link.HasKey(l => new { l.ConnectionId, l.CustomerId });
        link.Property(l => l.CustomerId).HasMaxLength(255);
        link.HasIndex(l => l.PersonId);
        // People search by Stripe customer id.
        link.HasIndex(l => l.CustomerId);
    }
}

internal sealed class StoredMetricEventConfiguration : IEntityTypeConfiguration<StoredMetricEvent>
{
    public void Configure(EntityTypeBuilder<StoredMetricEvent> metric)
    {
        metric.ToTable("metric_events");
        metric.Property(m => m.Metric).HasMaxLength(64);
        metric.Property(m => m.NaturalKey).HasMaxLength(512);
        metric.Property(m => m.CustomerId).HasMaxLength(255);
        metric.Property(m => m.Currency).HasMaxLength(3);
        metric.Property(m => m.SourceId).HasMaxLength(255);
        metric.HasIndex(m => new { m.Mode, m.NaturalKey }).IsUnique();
        metric.HasIndex(m => new { m.Mode, m.Metric, m.Time });
        // Covering: a chart's days, currencies and amounts come from the index alone (BENCHMARKS.md §4).
        metric.HasIndex(m => new { m.Mode, m.Metric, m.Day, m.Currency, m.Amount });
        metric.HasIndex(m => new { m.PersonId, m.Time });
        // Segments' metric conditions: did a person do this metric since then (docs/decisions/0007).
        metric.HasIndex(m => new { m.PersonId, m.Metric, m.Time });
        // Derivation replaces a customer's state-derived events and attaches a new person's earlier ones by customer id.
        metric.HasIndex(m => new { m.ConnectionId, m.CustomerId });
    }
}

internal sealed class ReconciliationDayConfiguration : IEntityTypeConfiguration<Health.ReconciliationDay>
{
    public void Configure(EntityTypeBuilder<Health.ReconciliationDay> day)
    {
        day.ToTable("reconciliation_days");
        day.HasKey(d => new { d.ConnectionId, d.Day });
    }
}

internal sealed class SegmentConfiguration : IEntityTypeConfiguration<Segment>
{
    public void Configure(EntityTypeBuilder<Segment> segment)
    {
        segment.ToTable("segments");
        segment.Property(s => s.Name).HasMaxLength(100);
        segment.HasIndex(s => s.Name).IsUnique();
    }
}
