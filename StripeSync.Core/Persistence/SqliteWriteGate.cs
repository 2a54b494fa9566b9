using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace StripeSync.Core.Persistence;

/// <summary>
/// Turns at a SQLite file's one write lock for this process's writers. A writer that finds the lock taken polls for it
/// (busy_timeout sleeps up to 100 ms between tries), so the lock went to whoever polled at the right moment, and the webhook
/// inbox's writer, whose requests wait for its commit, could sit out several of the processor's and derivation's
/// transactions in a row. Here write transactions queue first come, first served, and the inbox writer goes before any
/// queued transaction. A turn ends at commit or rollback, or when its connection closes or is disposed (a transaction that
/// failed, or was disposed on an exception). Other processes on the same file still meet the busy handler: the gate orders, the lock guards.
/// </summary>
public sealed class SqliteWriteGate
{
    /// <summary>A turn not given within this long is taken anyway; the lock's own busy handler still guards the write.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private static readonly ConcurrentDictionary<string, SqliteWriteGate> Files = new(StringComparer.Ordinal);
    private static readonly ConditionalWeakTable<DbConnection, Turn> Held = [];

    private readonly Lock sync = new();
    private readonly Queue<TaskCompletionSource<Turn>> first = new();
    private readonly Queue<TaskCompletionSource<Turn>> queued = new();
    private bool busy;

    /// <summary>
    /// Takes a turn for <paramref name="db"/>'s connection ahead of queued transactions, for a writer whose callers are
    /// waiting; null on PostgreSQL, or when the connection holds a turn already. Dispose it after the write.
    /// </summary>
    public static async Task<IAsyncDisposable?> FirstAsync(AppDbContext db, CancellationToken ct)
    {
        if (!db.Database.IsSqlite())
        {
            return null;
        }

        var connection = db.Database.GetDbConnection();
        return await EnterAsync(connection, ahead: true, ct);
    }

    internal static async Task<Turn?> EnterAsync(DbConnection connection, bool ahead, CancellationToken ct)
    {
        if (Held.TryGetValue(connection, out _))
        {
            return null;
        }

        var turn = await Files.GetOrAdd(connection.ConnectionString, _ => new SqliteWriteGate()).TakeAsync(ahead, ct).ConfigureAwait(false);
        turn.Connection = connection;
        Held.AddOrUpdate(connection, turn);
        return turn;
    }

    /// <summary>Whether a writer of the file holds its turn (for tests).</summary>
    internal static bool IsBusy(string connectionString)
    {
        if (!Files.TryGetValue(connectionString, out var gate))
        {
            return false;
        }

        lock (gate.sync)
        {
            return gate.busy;
        }
    }

    /// <summary>How many writers of the file wait for a turn (for tests).</summary>
    internal static int Waiting(string connectionString)
    {
        if (!Files.TryGetValue(connectionString, out var gate))
        {
            return 0;
        }

        lock (gate.sync)
        {
            return gate.first.Count + gate.queued.Count;
        }
    }

    internal static void Leave(DbConnection connection)
    {
        if (Held.TryGetValue(connection, out var turn))
        {
            turn.End();
        }
    }

    private async Task<Turn> TakeAsync(bool ahead, CancellationToken ct)
    {
        var waiter = new TaskCompletionSource<Turn>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (sync)
        {
            if (!busy)
            {
                busy = true;
                return new Turn(this);
            }

            (ahead ? first : queued).Enqueue(waiter);
        }

        try
        {
            return await waiter.Task.WaitAsync(Patience, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            if (!waiter.TrySetCanceled(CancellationToken.None))
            {
                // The turn came meanwhile: a cancelled caller hands it on, one out of patience keeps it.
                var turn = await waiter.Task.ConfigureAwait(false);
                if (e is OperationCanceledException)
                {
                    turn.End();
                    throw;
                }

                return turn;
            }

            // Given up before the turn came: the gate passes it on without us; out of patience, we write unordered.
            if (e is OperationCanceledException)
            {
                throw;
            }

            return new Turn(null);
        }
    }

    private void PassOn()
    {
        lock (sync)
        {
            while (first.Count > 0 || queued.Count > 0)
            {
                var next = first.Count > 0 ? first.Dequeue() : queued.Dequeue();
                // A waiter that gave up refuses the turn; the next one takes it.
                if (next.TrySetResult(new Turn(this)))
                {
                    return;
                }
            }

            busy = false;
        }
    }

    /// <summary>One writer's turn; ends once, however many of commit, rollback, failure and close report it.</summary>
    internal sealed class Turn(SqliteWriteGate? gate) : IAsyncDisposable
    {
        private int ended;

        public DbConnection? Connection { get; set; }

        public void End()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                if (Connection is not null)
                {
                    Held.Remove(Connection);
                }

                gate?.PassOn();
            }
        }

        public ValueTask DisposeAsync()
        {
            End();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// Every EF transaction on SQLite (each BEGIN IMMEDIATE takes the write lock) waits for its turn at <see cref="SqliteWriteGate"/>;
/// the turn ends at commit or rollback. Not at a failure: EF reports failed savepoints as failures while the transaction
/// goes on holding the lock. A transaction that failed or was dropped ends its turn when its connection closes or is disposed.
/// </summary>
internal sealed class SqliteWriteTurns : DbTransactionInterceptor
{
    public static readonly SqliteWriteTurns Instance = new();

    private static void Leave(TransactionEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            SqliteWriteGate.Leave(context.Database.GetDbConnection());
        }
    }

    /// <summary>A synchronous BEGIN blocks for its turn; the gate's awaits capture no context, so a caller's own cannot deadlock it.</summary>
    public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        SqliteWriteGate.EnterAsync(connection, ahead: false, CancellationToken.None).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        await SqliteWriteGate.EnterAsync(connection, ahead: false, cancellationToken);
        return result;
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Leave(eventData);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(eventData);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Leave(eventData);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(eventData);
        return Task.CompletedTask;
    }
}
