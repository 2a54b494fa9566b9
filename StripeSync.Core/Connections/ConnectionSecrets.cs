using Microsoft.AspNetCore.DataProtection;

namespace StripeSync.Core.Connections;

/// <summary>Encrypts Stripe keys and webhook secrets at rest with ASP.NET Data Protection.</summary>
public sealed class ConnectionSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector protector = provider.CreateProtector("StripeSync.Connections.v1");

    public string Protect(string secret) => protector.Protect(secret);

    public string Unprotect(string encrypted) => protector.Unprotect(encrypted);
}
