using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StripeSync.Core.Persistence;
using StripeSync.Tests.Support;

namespace StripeSync.Tests.Persistence;

/// <summary>SQLite's write transactions take turns in this process, the inbox writer first; a turn always ends.</summary>
public sealed class SqliteWriteGateTests : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private TestDatabase database = null!;
    private ServiceProvider services = null!;
    private IDbContextFactory<AppDbContext> factory = null!;

    public async Task InitializeAsync()
    {
        database = TestDatabase.Create(DatabaseProvider.Sqlite);
        services = new ServiceCollection()
            .AddStripeSyncDatabase(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = database.ConnectionString })
            .BuildServiceProvider();
        factory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await DatabaseSetup.MigrateAsync(factory, default);
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task The_inbox_writer_goes_before_a_queued_transaction_and_each_waits_for_the_turn_before_it()
    {
        await using var holder = await factory.CreateDbContextAsync();
        await using var queued = await factory.CreateDbContextAsync();
        await using var inbox = await factory.CreateDbContextAsync();
        var held = await holder.Database.BeginTransactionAsync();

        var transaction = queued.Database.BeginTransactionAsync();
        // Queued behind the holder (not in SQLite's busy handler): it starts only when a turn reaches it.
        while (!Waiting(1))
        {
            await Task.Yield();
        }

        await inbox.Database.OpenConnectionAsync();
        var first = SqliteWriteGate.FirstAsync(inbox, default);
        Assert.False(first.IsCompleted);
        Assert.False(transaction.IsCompleted);

        await held.CommitAsync();
        var turn = await first.WaitAsync(Long);
        Assert.False(transaction.IsCompleted);

        await turn!.DisposeAsync();
        var started = await transaction.WaitAsync(Long);
        await started.CommitAsync();
        Assert.False(SqliteWriteGate.IsBusy(database.ConnectionString));
    }

    [Fact]
    public async Task A_transaction_dropped_on_an_exception_ends_its_turn_when_its_context_goes()
    {
        await using (var failing = await factory.CreateDbContextAsync())
        {
            await using var transaction = await failing.Database.BeginTransactionAsync();
            Assert.True(SqliteWriteGate.IsBusy(database.ConnectionString));
            // Neither committed nor rolled back: disposed, as `await using` does when the work inside throws.
        }

        Assert.False(SqliteWriteGate.IsBusy(database.ConnectionString));
        await using var next = await factory.CreateDbContextAsync();
        await using var again = await next.Database.BeginTransactionAsync();
        Assert.True(SqliteWriteGate.IsBusy(database.ConnectionString));
        await again.RollbackAsync();
        Assert.False(SqliteWriteGate.IsBusy(database.ConnectionString));
    }

    [Fact]
    public async Task A_writer_cancelled_while_it_waits_leaves_the_queue_and_the_next_one_gets_the_turn()
    {
        await using var holder = await factory.CreateDbContextAsync();
        await using var cancelled = await factory.CreateDbContextAsync();
        await using var next = await factory.CreateDbContextAsync();
        var held = await holder.Database.BeginTransactionAsync();
        using var cancel = new CancellationTokenSource();

        var giving = cancelled.Database.BeginTransactionAsync(cancel.Token);
        while (!Waiting(1))
        {
            await Task.Yield();
        }

        var waiting = next.Database.BeginTransactionAsync();
        while (!Waiting(2))
        {
            await Task.Yield();
        }

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => giving.WaitAsync(Long));
        await held.CommitAsync();
        var started = await waiting.WaitAsync(Long);
        Assert.True(SqliteWriteGate.IsBusy(database.ConnectionString));
        await started.CommitAsync();
        Assert.False(SqliteWriteGate.IsBusy(database.ConnectionString));
        Assert.Equal(0, SqliteWriteGate.Waiting(database.ConnectionString));
    }

    [Fact]
    public async Task A_context_saving_twice_in_its_own_transaction_keeps_one_turn_and_writes_everything()
    {
        await using var db = await factory.CreateDbContextAsync();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.Users.Add(new Core.Access.AppUser { UserName = "a@example.com", Email = "a@example.com" });
            await db.SaveChangesAsync();
            db.Users.Add(new Core.Access.AppUser { UserName = "b@example.com", Email = "b@example.com" });
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }

        Assert.False(SqliteWriteGate.IsBusy(database.ConnectionString));
        Assert.Equal(2, await db.Users.CountAsync());
    }

    private bool Waiting(int count) => SqliteWriteGate.Waiting(database.ConnectionString) == count;
}
