using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Newtonsoft.Json.Linq;
using StripeSync.Simulator.Data;

namespace StripeSync.Simulator.Api;

/// <summary>How deliveries go wrong on purpose, to test a receiver.</summary>
public enum Misdelivery
{
    None,
    Duplicate,
    OutOfOrder,
    Late,
    StaleTimestamp,
    BadSignature,
}

/// <summary>
/// Delivers every new event to the registered endpoints that want it, signed as Stripe signs
/// (<c>Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")</c>), retrying non-2xx answers with back-off.
/// </summary>
public sealed class WebhookSender : IAsyncDisposable
{
    private readonly Channel<Delivery> queue = Channel.CreateUnbounded<Delivery>();
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource stop = new();
    private readonly List<Delivery> held = [];
    private readonly TimeProvider clock;
    private readonly Task loop;
    private long delivered, failedAttempts, sent;

    internal WebhookSender(SimulatorAccount account)
    {
        clock = account.Options.Clock;
        account.EventCreated += (mode, json) =>
        {
            var type = JObject.Parse(json)["type"]!.ToString();
            foreach (var endpoint in mode.WebhookEndpoints.Values.Where(e => e.EnabledEvents.Contains("*") || e.EnabledEvents.Contains(type)))
            {
                // The mode when the event happens, not when the loop reaches it: a test that switches modes between two
                // changes gets each change delivered the way it asked, however far behind the loop is.
                // In flight from here, not from when the loop takes it: between the two the sender looked idle.
                Interlocked.Increment(ref inFlight);
                queue.Writer.TryWrite(new Delivery(endpoint, json, Mode));
            }
        };
        loop = Task.Run(RunAsync);
    }

    /// <summary>How events created from now on are delivered (those already created keep the mode they were created under).</summary>
    public Misdelivery Mode { get; set; }

    /// <summary>Retry delays after a failed delivery (Stripe's are hours; the simulator's are short).</summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; set; } = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    public long Delivered => Interlocked.Read(ref delivered);
    public long FailedAttempts => Interlocked.Read(ref failedAttempts);
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>True when nothing is queued, held or in flight, late deliveries included (tests wait for this before reading results).</summary>
    public bool Idle => queue.Reader.Count == 0 && held.Count == 0 && Interlocked.Read(ref inFlight) == 0;

    private long inFlight;

    /// <summary>
    /// Waits (bounded) until every event created so far has been delivered or has used up its retries,
    /// releasing any still held back for out-of-order delivery once nothing else is queued.
    /// </summary>
    public async Task SettleAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Idle)
        {
            if (queue.Reader.Count == 0 && Interlocked.Read(ref inFlight) == 0)
            {
                Flush();
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Webhook deliveries did not settle in time.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Sends any events held back for out-of-order delivery.</summary>
    public void Flush()
    {
        lock (held)
        {
            foreach (var item in Enumerable.Reverse(held))
            {
                _ = DeliverAsync(item);
            }

            held.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        queue.Writer.TryComplete();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }

        http.Dispose();
        stop.Dispose();
    }

    private async Task RunAsync()
    {
        await foreach (var delivery in queue.Reader.ReadAllAsync(stop.Token))
        {
            try
            {
                switch (delivery.Mode)
                {
                    case Misdelivery.Duplicate:
                        await DeliverAsync(delivery);
                        await DeliverAsync(delivery);
                        break;
                    case Misdelivery.OutOfOrder:
                        bool full;
                        lock (held)
                        {
                            held.Add(delivery);
                            full = held.Count >= 3;
                        }

                        if (full)
                        {
                            Flush();
                        }

                        break;
                    case Misdelivery.Late:
                        _ = DeliverLateAsync(delivery);
                        break;
                    default:
                        await DeliverAsync(delivery);
                        break;
                }
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }
    }

    /// <summary>
    /// A delivery two seconds late. It counts as in flight from the start: counted only once sent, a late delivery left
    /// the sender <see cref="Idle"/> while it waited, and <see cref="SettleAsync"/> returned before it arrived.
    /// </summary>
    private async Task DeliverLateAsync(Delivery delivery)
    {
        Interlocked.Increment(ref inFlight);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
            await DeliverAsync(delivery);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    private async Task DeliverAsync(Delivery delivery)
    {
        var (endpoint, json, mode) = delivery;
        Interlocked.Increment(ref inFlight);
        try
        {
            for (var attempt = 0; attempt <= RetryDelays.Count; attempt++)
            {
                var timestamp = clock.GetUtcNow().ToUnixTimeSeconds() - (mode == Misdelivery.StaleTimestamp ? 600 : 0);
                var secret = mode == Misdelivery.BadSignature ? "whsec_not_the_right_secret" : endpoint.Secret;
                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
                {
                    Content = new StringContent(json, Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Stripe-Signature", Signature(json, secret, timestamp));
                request.Headers.UserAgent.ParseAdd("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
                Interlocked.Increment(ref sent);
                try
                {
                    using var response = await http.SendAsync(request, stop.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref delivered);
                        return;
                    }
                }
                // A receiver that resets the connection as soon as it is accepted surfaces as a bare SocketException
                // (not wrapped in HttpRequestException); left uncaught it ended the delivery loop for good.
                catch (Exception e) when (e is HttpRequestException or SocketException or IOException)
                {
                }
                catch (TaskCanceledException) when (!stop.IsCancellationRequested)
                {
                }

                Interlocked.Increment(ref failedAttempts);
                if (attempt < RetryDelays.Count)
                {
                    await Task.Delay(RetryDelays[attempt], stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    /// <summary>One event for one endpoint, with the misdelivery mode that was set when the event happened.</summary>
    private sealed record Delivery(WebhookEndpointEntry Endpoint, string Json, Misdelivery Mode);

    /// <summary>Stripe's signature scheme: <c>t=timestamp,v1=hex(HMAC-SHA256(secret, "timestamp.payload"))</c>.</summary>
    public static string Signature(string payload, string secret, long timestamp)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }
}
