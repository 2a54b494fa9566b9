namespace StripeSync.Core.Access;

public static class Roles
{
    public const string Admin = "Admin";
    public const string Marketer = "Marketer";

    public static readonly IReadOnlyList<string> All = [Admin, Marketer];

    public static bool IsKnown(string? role) => role is Admin or Marketer;
}
