namespace FedCore.Governance.Agreements;

/// <summary>
/// Where an agreement stands. Draft, proposed, active, suspended and terminated follow from its signed document;
/// expired and not-yet-valid from the clock as well (see <see cref="Agreement.StateAt"/>).
/// JSON and messages use the kebab-case names (not-yet-valid).
/// </summary>
public enum AgreementState
{
    /// <summary>Terms editable; no signatures.</summary>
    Draft,
    /// <summary>Terms frozen; signatures being collected.</summary>
    Proposed,
    /// <summary>Every party signed, and the window is open.</summary>
    Active,
    /// <summary>A party suspended it; the same party may resume it.</summary>
    Suspended,
    /// <summary>A party terminated it; final.</summary>
    Terminated,
    /// <summary>Frozen terms whose window has ended (now ≥ validUntil).</summary>
    Expired,
    /// <summary>Every party signed, but the window has not opened yet (now &lt; validFrom).</summary>
    NotYetValid,
}
