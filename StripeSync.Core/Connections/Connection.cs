namespace StripeSync.Core.Connections;

public enum ConnectionMode
{
    Test,
    Live,
}

/// <summary>The one status of SPEC §5, as Sync health shows it.</summary>
public enum ConnectionState
{
    Connected,
    Importing,
    Synced,
    Lagging,
    Error,
    KeyRevoked,
}

/// <summary>Where the connect wizard stands for a connection whose sync has not started (SPEC §1: resumable).</summary>
public enum SetupStep
{
    Permissions,
    FieldMapping,
    SyncChoice,
}

public enum SyncChoice
{
    NotChosen,
    Import,
    Skip,
}

/// <summary>
/// One Stripe key of one account in one mode. Secrets are stored only encrypted (Data Protection);
/// <see cref="KeyHint"/> is what people see (<c>rk_live_…9fQa</c>).
/// </summary>
public sealed class Connection
{
    public Guid Id { get; set; }
    public ConnectionMode Mode { get; set; }
    public required string EncryptedKey { get; set; }
    public required string KeyHint { get; set; }
    public string? AccountId { get; set; }
    public ConnectionState State { get; set; }
    public SyncChoice Sync { get; set; }
    public string? WebhookEndpointId { get; set; }
    public string? EncryptedWebhookSecret { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The wizard step to reopen at while <see cref="Sync"/> is still <see cref="SyncChoice.NotChosen"/>.</summary>
    public SetupStep SetupStep { get; set; }

    /// <summary>Where this connection's Stripe is, when not the configured <c>Stripe:ApiBase</c> (the demo's simulator).</summary>
    public string? ApiBase { get; set; }

    /// <summary>The built-in demo account (a simulator this app runs), not a real Stripe account.</summary>
    public bool IsDemo { get; set; }

    /// <summary>When the import (or skip) started: events before this are history, after it live.</summary>
    public DateTimeOffset? SyncStartedAt { get; set; }

    public DateTimeOffset? LastWebhookAt { get; set; }

    /// <summary>
    /// The events poll's watermark: creation time (unix seconds) of the newest event of its last complete walk
    /// of the Events API. Webhooks don't move it — a webhook arriving after an outage must not hide the events
    /// missed during it from the poll that catches them up.
    /// </summary>
    public long LastEventCreated { get; set; }

    /// <summary>Webhook deliveries refused (bad or stale signature, not an event): shown on Sync health.</summary>
    public long RejectedWebhooks { get; set; }

    public string? LastError { get; set; }
    public DateTimeOffset? LastErrorAt { get; set; }
}
