package dev.softmaxlosses.margin;

/**
 * The losses whose target is ArcFace's {@code cos(theta + m)} with its fallback ({@link AngularMargin}):
 * ArcFace, sub-center ArcFace (on each class's closest sub-centre) and CurricularFace (which also
 * reweighs the hard negatives). The transform, its slope and its bounds are written once, here.
 */
abstract sealed class ArcMarginLoss extends MarginLoss permits ArcFaceLoss, SubCenterArcFaceLoss, CurricularFaceLoss {

    ArcMarginLoss(MarginLossBuilder<?> options) {
        super(options);
    }

    /** The loss's fixed margin. */
    abstract AngularMargin arc();

    @Override
    double target(double c) {
        return arc().target(c);
    }

    @Override
    double targetSlope(double c) {
        return arc().slope(c);
    }

    @Override
    double targetBound() {
        return arc().bound();
    }

    @Override
    double targetSlopeBound() {
        return arc().slopeBound();
    }
}
