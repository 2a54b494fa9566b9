using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using StripeSync.Core.Access;
using StripeSync.Core.Connections;
using StripeSync.Core.Ingestion;
using StripeSync.Core.People;
using StripeSync.Core.Segments;

namespace StripeSync.Core.Persistence;

/// <summary>
/// The one database of StripeSync. It is abstract because EF Core ties a migration set to a context
/// type: each provider has a sealed subclass that owns its migrations (see docs/decisions/0001).
/// </summary>
public abstract class AppDbContext(DbContextOptions options)
    : IdentityDbContext<AppUser, IdentityRole, string>(options), IDataProtectionKeyContext
{
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Connection> Connections => Set<Connection>();
    public DbSet<FieldMapping> FieldMappings => Set<FieldMapping>();
    public DbSet<StoredObject> StripeObjects => Set<StoredObject>();
    public DbSet<BackfillCursor> BackfillCursors => Set<BackfillCursor>();
    public DbSet<BackfillSlice> BackfillSlices => Set<BackfillSlice>();
    public DbSet<InboxEvent> Inbox => Set<InboxEvent>();
    public DbSet<DirtyCustomer> DirtyCustomers => Set<DirtyCustomer>();
    public DbSet<Person> People => Set<Person>();
    public DbSet<PersonAmount> PersonAmounts => Set<PersonAmount>();
    public DbSet<PersonCustomer> PersonCustomers => Set<PersonCustomer>();
    public DbSet<StoredMetricEvent> MetricEvents => Set<StoredMetricEvent>();
    public DbSet<Health.ReconciliationDay> ReconciliationDays => Set<Health.ReconciliationDay>();
    public DbSet<Segment> Segments => Set<Segment>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
    }
}

public sealed class SqliteAppDbContext(DbContextOptions<SqliteAppDbContext> options) : AppDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // People text search (LIKE '%term%') scans this narrow index, in key order for the first page, instead of every
        // person's row with its FieldsJson (BENCHMARKS.md §4).
        builder.Entity<Person>().HasIndex(p => new { p.Mode, p.Key, p.SearchText }).HasDatabaseName("IX_people_Mode_Key_SearchText");
    }
}

public sealed class PostgresAppDbContext(DbContextOptions<PostgresAppDbContext> options) : AppDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // People text search (LIKE '%term%') reads the people a trigram index finds (BENCHMARKS.md §4); pg_trgm ships
        // with PostgreSQL (contrib).
        builder.HasPostgresExtension("pg_trgm");
        builder.Entity<Person>().HasIndex(p => p.SearchText).HasMethod("gin").HasOperators("gin_trgm_ops")
            .HasDatabaseName("IX_people_SearchText_trgm");
        // Segments on fields that are not promoted read FieldsJson with ->>: stored as jsonb it is parsed once when written,
        // not at every read (a custom segment at 100k people: 1.2 s → 0.24 s; BENCHMARKS.md §4). Key order is not kept,
        // which nothing relies on (the API writes fields in the mapping's order).
        builder.Entity<Person>().Property(p => p.FieldsJson).HasColumnType("jsonb");
    }
}
