using Federation.Contracts.Errors;
using Microsoft.Extensions.Logging;

namespace Federation.Silo.Hosting;

/// <summary>
/// FedCore knows nothing of Orleans, so its exceptions have no Orleans codec and could not travel back to a caller.
/// At the grain boundary they become <see cref="FederationOperationException"/>s that keep the message (which
/// names what was wrong and where) and the type in the code.
/// </summary>
internal sealed class FedCoreExceptionBoundary(ILogger<FedCoreExceptionBoundary> logger) : IIncomingGrainCallFilter
{
    private static readonly System.Reflection.Assembly FedCore = typeof(FedCore.Data.TabularData).Assembly;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (FedCore.Rounds.RoundRefusedException e)
        {
            // The protocol's refusal codes say what the caller should do (redo the round, give up): they travel as they are.
            logger.LogWarning("{Grain}.{Method} refused: {Message}", context.TargetId, context.MethodName, e.Message);
            throw new FederationOperationException(e.Code, e.Message);
        }
        catch (Exception e) when (e.GetType().Assembly == FedCore)
        {
            logger.LogWarning("{Grain}.{Method} failed: {Type}: {Message}", context.TargetId, context.MethodName, e.GetType().Name, e.Message);
            throw new FederationOperationException($"fedcore.{e.GetType().Name}", e.Message);
        }
    }
}
