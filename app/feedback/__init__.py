"""好差评: the public's rating of a service (a case that ended, a window visit) on the national 政务服务好差评
scale, the follow-up a 差评 opens (a BPMN process in the office leader's lane, processes/feedback_followup), the
SMS rating links, and the push of every rating to the province's 好差评 system through the outbox.

Layer: above the cases (it opens the follow-up as a case of the internal type ``feedback_followup``), below
supervision (whose statistics count the ratings) and the skins."""
