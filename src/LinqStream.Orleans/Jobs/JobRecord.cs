using System.Text.Json.Serialization;

namespace LinqStream.Orleans;

/// <summary>A job as the registry keeps it: what was submitted and its last recorded status.</summary>
internal sealed record JobRecord(JobSubmission Submission, JobStatus Status);

[JsonSerializable(typeof(JobRecord))]
internal sealed partial class ClusterJson : JsonSerializerContext;
