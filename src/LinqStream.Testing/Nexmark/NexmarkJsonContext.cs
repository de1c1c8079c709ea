using System.Text.Json.Serialization;

namespace LinqStream.Testing.Nexmark;

/// <summary>
/// Source-generated System.Text.Json metadata for the NEXMark types, camelCase, as the connectors and
/// <c>linqstream produce</c> write them: <c>EventSerializer&lt;Bid&gt;.Json(NexmarkJsonContext.Default.Bid)</c>.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(Bid))]
[JsonSerializable(typeof(Auction))]
[JsonSerializable(typeof(Person))]
[JsonSerializable(typeof(NexmarkEvent))]
public sealed partial class NexmarkJsonContext : JsonSerializerContext;
