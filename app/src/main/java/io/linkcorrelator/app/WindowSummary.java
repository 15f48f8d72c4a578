package io.linkcorrelator.app;

import org.apache.kafka.streams.kstream.Aggregator;

/**
 * The application's aggregate of one window, folded over its {@link Observation}s when the window
 * closes: how many records, how many with and without a trace context, the first and last event
 * time, and the count, sum, min and max of the numeric field.
 */
final class WindowSummary {

  /** Folds the next record's observation into the summary. */
  static final Aggregator<String, Observation, WindowSummary> AGGREGATOR =
      (key, observation, summary) -> summary.add(observation);

  private long count;
  private long linked;
  private long firstEventTime = Long.MAX_VALUE;
  private long lastEventTime = Long.MIN_VALUE;
  private long valueCount;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;

  private WindowSummary add(Observation observation) {
    count++;
    if (observation.linked()) {
      linked++;
    }
    firstEventTime = Math.min(firstEventTime, observation.eventTime());
    lastEventTime = Math.max(lastEventTime, observation.eventTime());
    Double value = observation.value();
    if (value != null) {
      valueCount++;
      sum += value;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    return this;
  }

  long count() {
    return count;
  }

  long linked() {
    return linked;
  }

  long unlinked() {
    return count - linked;
  }

  long firstEventTime() {
    return firstEventTime;
  }

  long lastEventTime() {
    return lastEventTime;
  }

  boolean hasValues() {
    return valueCount > 0;
  }

  double sum() {
    return sum;
  }

  double min() {
    return min;
  }

  double max() {
    return max;
  }
}
