using MudBlazor;

namespace StripeSync.Web.Components.Layout;

/// <summary>One palette for the whole app; system fonts, since the app must render with no internet.</summary>
public static class Theme
{
    private static readonly string[] Fonts = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"];

    public static readonly MudTheme Current = new()
    {
        PaletteLight = new PaletteLight { Primary = "#635bff", Secondary = "#0a2540", AppbarBackground = "#0a2540" },
        PaletteDark = new PaletteDark { Primary = "#8f88ff", Secondary = "#80e9ff" },
        Typography = new Typography { Default = new DefaultTypography { FontFamily = Fonts } },
    };
}
