package io.linkcorrelator.streams;

/**
 * What the capture step hands the window step: a message's {@link Contribution}, or, after a
 * repartition, a {@link Progress} marker saying how far one source partition has read in event
 * time. Both travel through the repartition topic, told apart by {@link ContributionSerde}'s first
 * byte.
 */
sealed interface Captured permits Contribution, Progress {}
