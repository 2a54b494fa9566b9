using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace StripeSync.Tests.Support;

/// <summary>
/// A loopback TCP relay to one port that a test can cut and heal: while cut, open connections are reset and new
/// ones are reset on arrival, as a network partition or a peer that is down looks from the other side. Unlike
/// stopping the simulator, it cuts off one app only, so a twin reading the same simulator never sees the outage.
/// </summary>
public sealed class NetworkPartition : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int target;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<Socket, byte> open = new();
    private readonly Task accepting;
    private volatile bool cut;
    private long refused;

    public NetworkPartition(int targetPort)
    {
        target = targetPort;
        listener.Start();
        accepting = Task.Run(AcceptAsync);
    }

    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

    /// <summary>Connections reset because they arrived, or were open, while cut.</summary>
    public long Refused => Interlocked.Read(ref refused);

    public void Cut()
    {
        cut = true;
        foreach (var socket in open.Keys)
        {
            Reset(socket);
        }
    }

    public void Heal() => cut = false;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try
        {
            await accepting;
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var socket in open.Keys)
        {
            socket.Dispose();
        }

        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (cut)
            {
                Reset(client);
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        open[client] = 0;
        open[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, target, stop.Token);
            using var a = new NetworkStream(client, ownsSocket: false);
            using var b = new NetworkStream(upstream, ownsSocket: false);
            // Either direction ending (or a reset) ends the pair.
            await Task.WhenAny(a.CopyToAsync(b, stop.Token), b.CopyToAsync(a, stop.Token));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            open.TryRemove(client, out _);
            open.TryRemove(upstream, out _);
            client.Dispose();
            upstream.Dispose();
        }
    }

    /// <summary>Closes with RST rather than FIN: the peer sees "connection reset", not a polite end.</summary>
    private void Reset(Socket socket)
    {
        Interlocked.Increment(ref refused);
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
