package io.linkcorrelator.streams;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The application's part of the capture step: the value decoded once in the configured {@link
 * ValueFormat}, the group key from the record key, a header or a value field ({@link GroupBy}), and
 * the numeric aggregate field kept for the {@link SummaryFold}.
 */
final class ConfiguredGrouping implements LinkCapture.Grouping<byte[], byte[]> {

  private final GroupBy groupBy;
  private final ValueFields.Reader values;

  ConfiguredGrouping(CorrelatorConfig config) {
    this.groupBy = config.groupBy();
    this.values = ValueFields.reader(config);
  }

  @Override
  public LinkCapture.Grouped group(Record<byte[], byte[]> record, String topic) {
    ValueFields.Fields fields;
    try {
      fields = values.read(topic, record.value()); // the value's only decoding
    } catch (ValueFields.UnreadableValue e) {
      throw new LinkCapture.Rejected(e.outcome(), e.getMessage());
    }
    Double aggregate = fields.aggregate();
    return new LinkCapture.Grouped(
        groupKey(record, fields),
        aggregate == null ? null : Bytes.wrap(SummaryFold.value(aggregate)));
  }

  private String groupKey(Record<byte[], byte[]> record, ValueFields.Fields fields) {
    return switch (groupBy.source()) {
      case RECORD_KEY -> GroupKeys.of(record.key());
      case HEADER -> {
        byte[] header = GroupKeys.lastHeader(record.headers(), groupBy.name());
        yield header == null || header.length == 0 ? null : GroupKeys.of(header);
      }
      case VALUE_FIELD -> fields.groupKey();
    };
  }

  @Override
  public String describeMissingKey() {
    return switch (groupBy.source()) {
      case RECORD_KEY -> "null record key";
      case HEADER -> "header " + groupBy.name() + " missing or empty";
      case VALUE_FIELD -> "value field " + groupBy.name() + " missing or null";
    };
  }
}
