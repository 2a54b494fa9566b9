using Microsoft.Playwright;

namespace StripeSync.Tests.Support;

/// <summary>
/// One headless Debian chromium for the whole browser tier (Playwright cannot download its own here).
/// Tests get a fresh context each, so cookies never leak between them.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Screenshots land in artifacts/screenshots at the repository root, for people to look at.</summary>
    public static string Artifacts { get; } = Directory.CreateDirectory(Path.Combine(RepositoryRoot(), "artifacts", "screenshots")).FullName;

    public async Task InitializeAsync()
    {
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task<IPage> NewPageAsync(Uri baseUrl)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        // Bounds on waiting, not timings: the whole suite shares two cores, and a Blazor circuit under that load
        // can take several seconds to re-render (a segment's live count, a navigation after save).
        context.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>CSS transitions are finished first, so a button just enabled does not look half disabled.</summary>
    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(Artifacts, name + ".png"), FullPage = true, Animations = ScreenshotAnimations.Disabled,
        });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StripeSync.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserTier : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}

/// <summary>A browser test; skipped (visibly) where chromium is not installed — scripts/test.sh installs it.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(BrowserFixture.Chromium))
        {
            Skip = $"Browser tier: {BrowserFixture.Chromium} is missing (scripts/test.sh installs Debian's chromium).";
        }
    }
}
