namespace StripeSync.Web.Setup;

public enum HostRole
{
    All,
    Web,
    Worker,
}

public static class HostRoles
{
    /// <summary>Reads <c>--role</c> (or the <c>Role</c> setting); anything but web, worker or all stops start-up.</summary>
    public static HostRole Read(IConfiguration configuration)
    {
        var value = configuration["role"];
        return value?.Trim().ToLowerInvariant() switch
        {
            null or "" or "all" => HostRole.All,
            "web" => HostRole.Web,
            "worker" => HostRole.Worker,
            _ => throw new InvalidOperationException($"--role must be web, worker or all, not '{value}'."),
        };
    }

    public static bool ServesWeb(this HostRole role) => role is HostRole.All or HostRole.Web;

    public static bool RunsJobs(this HostRole role) => role is HostRole.All or HostRole.Worker;
}
