package io.linkcorrelator.streams.propagation;

/** What a propagation format says about sampling: yes, no, or nothing. */
public enum Sampling {
  /** The producer sampled its span. */
  SAMPLED,
  /** The producer did not sample its span. */
  NOT_SAMPLED,
  /** The headers say nothing valid about sampling (e.g. no Datadog priority). */
  UNKNOWN;

  static Sampling of(boolean sampled) {
    return sampled ? SAMPLED : NOT_SAMPLED;
  }
}
