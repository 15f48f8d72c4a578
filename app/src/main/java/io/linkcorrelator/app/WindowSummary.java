package io.linkcorrelator.app;

import io.linkcorrelator.streams.Contributor;
import io.linkcorrelator.streams.LinkedAggregator;

/**
 * The application's aggregate of one window, folded when the window closes over its records' {@link
 * FieldValue}s and what the library knows of each record ({@link Contributor}): how many records,
 * how many with and without a trace context, the first and last event time, and the count, sum, min
 * and max of the numeric field.
 */
final class WindowSummary {

  /** Folds the next record into the summary. */
  static final LinkedAggregator<String, FieldValue, WindowSummary> AGGREGATOR =
      (key, field, contributor, summary) -> summary.add(contributor, field);

  private long count;
  private long linked;
  private long firstEventTime = Long.MAX_VALUE;
  private long lastEventTime = Long.MIN_VALUE;
  private long valueCount;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;

  private WindowSummary add(Contributor contributor, FieldValue field) {
    count++;
    if (contributor.linked()) {
      linked++;
    }
    firstEventTime = Math.min(firstEventTime, contributor.timestamp());
    lastEventTime = Math.max(lastEventTime, contributor.timestamp());
    Double value = field.value();
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
