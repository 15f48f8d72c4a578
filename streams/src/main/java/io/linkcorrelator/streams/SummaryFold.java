package io.linkcorrelator.streams;

import io.linkcorrelator.schemas.WindowResult;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The application's fold: the window's count (from the {@link WindowFold.Summary}) and the sum, min
 * and max of the configured numeric field, kept in each contribution as an 8-byte double ({@link
 * #value(double)}), into a {@link WindowResult} keyed by the group key, at the window's latest
 * event time.
 */
final class SummaryFold implements WindowFold<String, WindowResult> {

  private final CorrelatorConfig config;
  private long valueCount;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;

  private SummaryFold(CorrelatorConfig config) {
    this.config = config;
  }

  /** The factory of the application's folds. */
  static WindowFold.Factory<String, WindowResult> factory(CorrelatorConfig config) {
    return (groupKey, start, end) -> new SummaryFold(config);
  }

  /** How the capture step keeps a numeric field's value in a contribution. */
  static byte[] value(double value) {
    return ByteBuffer.allocate(Double.BYTES).putDouble(value).array();
  }

  @Override
  public void add(Contribution contribution) {
    if (contribution.value() == null) {
      return;
    }
    double value = ByteBuffer.wrap(contribution.value().get()).getDouble();
    valueCount++;
    sum += value;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }

  @Override
  public Record<String, WindowResult> result(WindowFold.Summary summary) {
    boolean hasValues = valueCount > 0;
    java.util.Set<String> functions = config.aggregateFunctions();
    WindowResult result =
        WindowResult.newBuilder()
            .setGroupKey(summary.groupKey())
            .setWindowStart(Instant.ofEpochMilli(summary.start()))
            .setWindowEnd(Instant.ofEpochMilli(summary.end()))
            .setWindowType(summary.window().type())
            .setMessageCount(summary.count())
            .setFirstEventTime(Instant.ofEpochMilli(summary.firstEventTime()))
            .setLastEventTime(Instant.ofEpochMilli(summary.lastEventTime()))
            .setAggregateField(config.aggregateField())
            .setSum(hasValues && functions.contains("sum") ? sum : null)
            .setMin(hasValues && functions.contains("min") ? min : null)
            .setMax(hasValues && functions.contains("max") ? max : null)
            .setLinkedCount(summary.linked())
            .setUnlinkedCount(summary.unlinked())
            .setTraceId(summary.aggregate().getTraceId())
            .setSpanId(summary.aggregate().getSpanId())
            .build();
    return new Record<>(summary.groupKey(), result, summary.lastEventTime());
  }
}
