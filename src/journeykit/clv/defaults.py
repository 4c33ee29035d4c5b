"""The horizon and discount every CLV figure journeykit shows is computed with (the CLI's
``clv`` defaults, the measure pipeline, the web app, prove's value at stake): one place, so
the figures on different pages agree."""

HORIZON_MONTHS = 12
DISCOUNT_RATE = 0.01  # per month
