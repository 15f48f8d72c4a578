package io.linkcorrelator.embedded;

/**
 * One trace export request the {@link OtlpReceiver} accepted, with when it arrived and when it was
 * decoded, to tell the exporter's part of a span's latency from the receiver's own.
 *
 * @param transport {@code "http/protobuf"} or {@code "grpc"}
 * @param arrivedAtEpochNanos when its handler started (wall clock): over HTTP before the body is
 *     read and decoded; over gRPC the server has decoded it already
 * @param decodedAtEpochNanos when its spans were decoded and recorded (wall clock), just before the
 *     response is sent (after the delay of {@link OtlpReceiver#delayTraceResponses}, if any)
 * @param spans how many spans it carried
 * @param earliestSpanEndEpochNanos the earliest end time of its spans; 0 when it carried none
 * @param latestSpanEndEpochNanos the latest end time of its spans: the earliest moment the exporter
 *     could have sent it; 0 when it carried none
 */
public record ReceivedRequest(
    String transport,
    long arrivedAtEpochNanos,
    long decodedAtEpochNanos,
    int spans,
    long earliestSpanEndEpochNanos,
    long latestSpanEndEpochNanos) {

  /**
   * From the latest end of its spans until the receiver had it decoded: what one export costs once
   * its spans are ended (the exporter's serialization and sending, the transfer, the decoding).
   *
   * @return milliseconds
   */
  public double roundTripMillis() {
    return (decodedAtEpochNanos - latestSpanEndEpochNanos) / 1e6;
  }

  /**
   * How long the receiver took to read and decode it.
   *
   * @return milliseconds
   */
  public double decodeMillis() {
    return (decodedAtEpochNanos - arrivedAtEpochNanos) / 1e6;
  }
}
