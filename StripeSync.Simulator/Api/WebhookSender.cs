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
    private readonly Channel<(WebhookEndpointEntry Endpoint, string Json)> queue = Channel.CreateUnbounded<(WebhookEndpointEntry, string)>();
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly CancellationTokenSource stop = new();
    private readonly List<(WebhookEndpointEntry Endpoint, string Json)> held = [];
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
                queue.Writer.TryWrite((endpoint, json));
            }
        };
        loop = Task.Run(RunAsync);
    }

    public Misdelivery Mode { get; set; }

    /// <summary>Retry delays after a failed delivery (Stripe's are hours; the simulator's are short).</summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; set; } = [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    public long Delivered => Interlocked.Read(ref delivered);
    public long FailedAttempts => Interlocked.Read(ref failedAttempts);
    public long Sent => Interlocked.Read(ref sent);

    /// <summary>True when nothing is queued or held (tests wait for this before reading results).</summary>
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
                _ = DeliverAsync(item.Endpoint, item.Json);
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
        await foreach (var (endpoint, json) in queue.Reader.ReadAllAsync(stop.Token))
        {
            Interlocked.Increment(ref inFlight);
            try
            {
                switch (Mode)
                {
                    case Misdelivery.Duplicate:
                        await DeliverAsync(endpoint, json);
                        await DeliverAsync(endpoint, json);
                        break;
                    case Misdelivery.OutOfOrder:
                        lock (held)
                        {
                            held.Add((endpoint, json));
                        }

                        if (held.Count >= 3)
                        {
                            Flush();
                        }

                        break;
                    case Misdelivery.Late:
                        _ = Task.Delay(TimeSpan.FromSeconds(2), stop.Token).ContinueWith(_ => DeliverAsync(endpoint, json), TaskScheduler.Default);
                        break;
                    default:
                        await DeliverAsync(endpoint, json);
                        break;
                }
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }
    }

    private async Task DeliverAsync(WebhookEndpointEntry endpoint, string json)
    {
        Interlocked.Increment(ref inFlight);
        try
        {
            for (var attempt = 0; attempt <= RetryDelays.Count; attempt++)
            {
                var timestamp = clock.GetUtcNow().ToUnixTimeSeconds() - (Mode == Misdelivery.StaleTimestamp ? 600 : 0);
                var secret = Mode == Misdelivery.BadSignature ? "whsec_not_the_right_secret" : endpoint.Secret;
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

    /// <summary>Stripe's signature scheme: <c>t=timestamp,v1=hex(HMAC-SHA256(secret, "timestamp.payload"))</c>.</summary>
    public static string Signature(string payload, string secret, long timestamp)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }
}
