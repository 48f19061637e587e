// The widgets and templates every rjsf form of the app registers (settings forms and the
// canvas's ShapeForm alike), so a fix to how fields are named reaches every form.
import { CheckboxWidget } from "./CheckboxWidget";
import { ChoiceFieldTemplate, LabelledFieldTemplate, TitleFieldTemplate } from "./fieldTemplates";
import { SelectWidget } from "./SelectWidget";
import { AlertErrorTemplate } from "./templates";

export const FORM_WIDGETS = { CheckboxWidget, SelectWidget };

export const FORM_TEMPLATES = {
  FieldTemplate: LabelledFieldTemplate,
  TitleFieldTemplate,
  MultiSchemaFieldTemplate: ChoiceFieldTemplate,
  FieldErrorTemplate: AlertErrorTemplate,
};
