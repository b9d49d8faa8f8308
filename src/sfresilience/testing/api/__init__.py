"""The Salesforce APIs the fake answers: REST data, auth (SOAP and OAuth), Apex REST."""
