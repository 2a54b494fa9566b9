using Microsoft.Extensions.Configuration;
using StripeSync.Web.Setup;

namespace StripeSync.Tests.Setup;

public sealed class HostRoleTests
{
    [Theory]
    [InlineData(null, HostRole.All)]
    [InlineData("all", HostRole.All)]
    [InlineData("Web", HostRole.Web)]
    [InlineData(" worker ", HostRole.Worker)]
    public void Role_switch_is_read_from_configuration(string? value, HostRole expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["role"] = value }).Build();

        Assert.Equal(expected, HostRoles.Read(configuration));
    }

    [Fact]
    public void An_unknown_role_stops_start_up_with_the_choices()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["role"] = "scheduler" }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => HostRoles.Read(configuration));
        Assert.Contains("web, worker or all", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Separate_worker_processes_are_refused_on_sqlite_with_the_reason()
    {
        var error = Assert.ThrowsAny<Exception>(() =>
        {
            using var app = Support.AppHost.Start(extra: new Dictionary<string, string?> { ["role"] = "worker" });
        });

        Assert.Contains("needs a shared job queue", error.ToString(), StringComparison.Ordinal);
    }
}
