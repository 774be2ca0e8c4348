"""Read the free-text timeframe of a follow-up action.

The raw text is always kept. What can be read becomes a window (start, end), a due date and a
precision; what cannot is flagged `unparsed` and never guessed. Rules worth knowing:

- The window is the period the text names, whatever the preposition: "by December 2024" and
  "starting in December 2024" both give 2024-12-01..2024-12-31, due on the 31st.
- "End of <period>" is a deadline on the period's last day: precision "day", window the period.
- "Early/mid/late <month>" are the thirds 1-10, 11-20 (due the 15th, "mid-month"), 21-end.
  "Early/mid/late <year>" are Jan-Apr, May-Aug, Sep-Dec. These and half years (H1, H2) get
  precision "year": precision never claims more than the text says.
- Seasons are meteorological and northern: winter 2023 is December 2023 to February 2024.
- A month or day without a year needs `reference`: it is the first such period not over by then.
- Several dates that are not one range become milestones; the timeframe is due with the last.
- "Next meeting" is `next_meeting` when it is given and agrees with any date the text names.
"""

from __future__ import annotations

from statemachines.timeframes.expressions import MONTHS
from statemachines.timeframes.model import NEXT_MEETING, Milestone, Timeframe
from statemachines.timeframes.reading import read_timeframe

__all__ = ["MONTHS", "NEXT_MEETING", "Milestone", "Timeframe", "read_timeframe"]
