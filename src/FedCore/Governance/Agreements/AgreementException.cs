using FedCore.Governance.Canonical;

namespace FedCore.Governance.Agreements;

/// <summary>An agreement, or something done with it, that is refused: names the agreement and the reason.</summary>
public class AgreementException(string agreementId, string problem)
    : GovernanceException($"agreement '{agreementId}': {problem}")
{
    public string AgreementId { get; } = agreementId;

    public string Problem { get; } = problem;
}

/// <summary>A lifecycle transition the agreement's state does not allow: names the state and the transition.</summary>
public sealed class AgreementTransitionException(string agreementId, AgreementState state, string transition, string reason)
    : AgreementException(agreementId, $"cannot {transition} in state {Formats.Name(state)}: {reason}")
{
    public AgreementState State { get; } = state;

    public string Transition { get; } = transition;
}
