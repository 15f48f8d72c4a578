package io.linkcorrelator.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The identical pre-generated records every variant gets: one key, one record every {@link
 * #SPACING_MS} of event time (the same event-time rate at every window size, so that the stores'
 * segments roll at the same pace), tumbling windows of {@code perWindow} records, every record with
 * a W3C {@code traceparent} of its own producer span.
 *
 * @param perWindow contributors per window
 * @param windows the records of each window, in order; the first record of window k+1 closes k
 * @param closer a record far after the last window, which closes it
 */
record Workload(
    int perWindow,
    List<List<TestRecord<String, byte[]>>> windows,
    TestRecord<String, byte[]> closer) {

  /** Event time between two records. */
  static final long SPACING_MS = 10;

  static final String KEY = "customer-1";

  static Workload of(int totalRecords, int perWindow) {
    int windowCount = Math.max(1, totalRecords / perWindow);
    byte[] value = "order-payload-16".getBytes(StandardCharsets.UTF_8);
    List<List<TestRecord<String, byte[]>>> windows = new ArrayList<>(windowCount);
    int n = 0;
    for (int w = 0; w < windowCount; w++) {
      List<TestRecord<String, byte[]>> records = new ArrayList<>(perWindow);
      for (int i = 0; i < perWindow; i++, n++) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("traceparent", traceparent(n).getBytes(StandardCharsets.UTF_8));
        records.add(new TestRecord<>(KEY, value, headers, (long) n * SPACING_MS));
      }
      windows.add(records);
    }
    TestRecord<String, byte[]> closer =
        new TestRecord<>(
            KEY, value, new RecordHeaders(), (windowCount + 1L) * perWindow * SPACING_MS);
    return new Workload(perWindow, windows, closer);
  }

  static String traceparent(int n) {
    return String.format("00-%032x-%016x-01", 0x5EED_0000L + n, 0xC0DE_0000L + n);
  }

  /** The window size that holds {@code perWindow} records. */
  long windowMs() {
    return perWindow * SPACING_MS;
  }
}
