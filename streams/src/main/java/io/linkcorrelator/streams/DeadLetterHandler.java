package io.linkcorrelator.streams;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The correlator's processing exception handler (the default of {@code
 * processing.exception.handler}): Kafka Streams' {@link LogAndContinueProcessingExceptionHandler}
 * (log, go on, and build the dead letter from the record the task read, with Kafka's {@code
 * __streams.errors.*} headers), plus, when the failing record is a {@link Contribution} (a late
 * record at the window step), headers naming the ORIGINAL message: {@value #TOPIC}, {@value
 * #PARTITION} and {@value #OFFSET} (UTF-8 text). After a repartition the record the task read is
 * the repartition record, so only these headers lead an operator back to the message itself. The
 * cost is paid only on failure.
 */
public final class DeadLetterHandler extends LogAndContinueProcessingExceptionHandler {

  /** Header of the original message's topic: {@value}. */
  public static final String TOPIC = "correlator.original.topic";

  /** Header of the original message's partition: {@value}. */
  public static final String PARTITION = "correlator.original.partition";

  /** Header of the original message's offset: {@value}. */
  public static final String OFFSET = "correlator.original.offset";

  /** Created by Kafka Streams from {@code processing.exception.handler}. */
  public DeadLetterHandler() {}

  /**
   * Logs and continues, as Kafka's handler; dead letters of a contribution name its original.
   *
   * @param context where the failing record was read
   * @param record the record the failing processor was given
   * @param exception what failed
   * @return resume, with the dead letters (if a dead-letter topic is configured)
   */
  @Override
  public ProcessingExceptionHandler.Response handleError(
      ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    ProcessingExceptionHandler.Response response = super.handleError(context, record, exception);
    if (!(record.value() instanceof Contribution original)
        || response.deadLetterQueueRecords().isEmpty()) {
      return response;
    }
    List<ProducerRecord<byte[], byte[]>> letters = new ArrayList<>();
    for (ProducerRecord<byte[], byte[]> letter : response.deadLetterQueueRecords()) {
      Headers headers = letter.headers();
      headers.remove(TOPIC).remove(PARTITION).remove(OFFSET);
      headers.add(TOPIC, utf8(original.topic()));
      headers.add(PARTITION, utf8(Integer.toString(original.partition())));
      headers.add(OFFSET, utf8(Long.toString(original.offset())));
      letters.add(letter);
    }
    return response.result() == ProcessingExceptionHandler.Result.FAIL
        ? ProcessingExceptionHandler.Response.fail(letters)
        : ProcessingExceptionHandler.Response.resume(letters);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
