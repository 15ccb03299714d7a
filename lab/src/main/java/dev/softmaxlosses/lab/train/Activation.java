package dev.softmaxlosses.lab.train;

/** The nonlinearity after each hidden layer. */
public enum Activation {
    RELU, PRELU
}
