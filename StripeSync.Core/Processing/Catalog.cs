using StripeSync.Core.StripeApi;

namespace StripeSync.Core.Processing;

/// <summary>
/// Lookups of the reference objects processing needs beside a customer's own records: products (names),
/// prices (intervals, nicknames) and coupons (discounts). The processor backs it with stored rows;
/// tests back it with lists.
/// </summary>
public sealed class Catalog(
    Func<string, ProductRecord?> product,
    Func<string, PriceRecord?> price,
    Func<string, CouponRecord?> coupon)
{
    public static Catalog Empty { get; } = new(_ => null, _ => null, _ => null);

    public static Catalog From(
        IEnumerable<ProductRecord>? products = null,
        IEnumerable<PriceRecord>? prices = null,
        IEnumerable<CouponRecord>? coupons = null)
    {
        var productsById = (products ?? []).ToDictionary(p => p.Id, StringComparer.Ordinal);
        var pricesById = (prices ?? []).ToDictionary(p => p.Id, StringComparer.Ordinal);
        var couponsById = (coupons ?? []).ToDictionary(c => c.Id, StringComparer.Ordinal);
        return new Catalog(productsById.GetValueOrDefault, pricesById.GetValueOrDefault, couponsById.GetValueOrDefault);
    }

    public ProductRecord? Product(string? id) => id is null ? null : product(id);

    public PriceRecord? Price(string? id) => id is null ? null : price(id);

    public CouponRecord? Coupon(string? id) => id is null ? null : coupon(id);

    /// <summary>The coupon lookup in the shape <see cref="Mrr"/> takes.</summary>
    public Func<string, CouponRecord?> Coupons => coupon;

    /// <summary>How a price reads to a person: its nickname, else its product's name, else its id.</summary>
    public string PlanName(PriceRecord price) =>
        !string.IsNullOrWhiteSpace(price.Nickname) ? price.Nickname
        : Product(price.ProductId)?.Name is { Length: > 0 } name ? name
        : price.Id;
}
