package dev.orchestra.docker;

/** The standard input of a created container, being delivered in the background. */
interface StdinDelivery {

  /** Gives up delivering (the container failed to start): ends the attach, closes the input. */
  void abandon();
}
