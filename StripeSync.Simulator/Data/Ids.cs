namespace StripeSync.Simulator.Data;

/// <summary>Stripe-looking ids (prefix + 14 base62 characters) from a seeded source: the same seed, the same ids.</summary>
internal sealed class Ids(int seed)
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private readonly Random random = new(seed ^ 0x5EED);
    private readonly Lock gate = new();

    public string Next(string prefix)
    {
        Span<char> chars = stackalloc char[14];
        lock (gate)
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[random.Next(Alphabet.Length)];
            }
        }

        return prefix + "_" + new string(chars);
    }
}
