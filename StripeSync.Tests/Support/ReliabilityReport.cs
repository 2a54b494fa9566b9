namespace StripeSync.Tests.Support;

/// <summary>
/// Each reliability scenario leaves its figures as a Markdown section in artifacts/reliability/;
/// scripts/reliability.sh gathers them into RELIABILITY.md after one run.
/// </summary>
public static class ReliabilityReport
{
    public static void Write(string scenario, params string[] lines)
    {
        var folder = Path.Combine(AppProcess.RepositoryRoot, "artifacts", "reliability");
        Directory.CreateDirectory(folder);
        var name = string.Concat(scenario.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-'));
        File.WriteAllLines(Path.Combine(folder, $"report-{name}.md"),
            [$"## {scenario}", "", .. lines.Select(l => "- " + l), "", $"_Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC._", ""]);
    }
}
