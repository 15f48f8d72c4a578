package io.linkcorrelator.streams;

/**
 * A record the correlator cannot count: no group key, an undecodable value, a negative or
 * far-future timestamp, a tombstone, or a record later than its window's grace period. Thrown so
 * that Kafka Streams' processing exception handler deals with it — the application's default,
 * {@link DeadLetterHandler}, logs it with its topic/partition/offset, writes the record the task
 * read with the reason to the dead-letter topic ({@code errors.dead.letter.queue.topic.name}) when
 * there is one (a late record's with headers naming its original message), and goes on. It has no
 * stack trace: it is an expected outcome, not a bug.
 */
public final class InvalidRecordException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * A record that cannot be counted, for the processing exception handler to log and dead-letter:
   * throw it from your own processor before a linked aggregation to reject a record there the same
   * way.
   *
   * @param reason why, for the log and the dead letter's reason header; no default
   */
  public InvalidRecordException(String reason) {
    super(reason, null, false, false);
  }
}
